//! The scenario file format: the serde and JSON Schema types a YAML scenario deserializes into.
//!
//! The format describes the wire, not the mock's internals: a step is an HTTP request and what its answer
//! must look like. Only `control` steps (and the virtual clock of `poll`) reach into the mock, through its
//! `/__admin` API. `scenarios/README.md` is the user's reference; `scenarios/schema.json` is generated from
//! these types (`amazon-music-mock schema`) so that editors can complete and check scenario files.
//!
//! Every struct refuses unknown keys, so a typo is an error with its line and column instead of a check
//! that silently never runs.

use std::borrow::Cow;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod media;

pub use media::{
    AudioExpect, DEFAULT_DURATION_TOLERANCE_S, DEFAULT_FREQUENCY_TOLERANCE_HZ, DashExpect, DashFetch, DurationExpect,
    FrequencyExpect, Number, OneOrList, RangeCase, RepresentationExpect, RepresentationSelector,
};

/// One scenario file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "amazon-music-mock scenario")]
pub struct Scenario {
    /// A unique name, used in reports, `--filter` and baselines.
    pub name: String,
    /// What the scenario shows, in a sentence or two.
    #[serde(default)]
    pub description: Option<String>,
    /// Free-form labels for `--filter`; `mock-only` marks scenarios that need the mock's admin API.
    #[serde(default)]
    pub tags: Vec<String>,
    /// What the scenario checks in the specs: MUST ids (`lwa§13.4-2`, `music§11.2-1`) or whole sections
    /// (`lwa.md §13.5`, `music-api.md §11.2`). See docs/CONFORMANCE.md.
    #[serde(default)]
    pub checks: Vec<String>,
    /// Variables set before the first step, in order; a value may use fixtures and earlier variables.
    #[serde(default)]
    pub vars: IndexMap<String, Value>,
    /// The steps, run in order; the first failing step ends the scenario.
    pub steps: Vec<Located<Step>>,
}

/// A value with the line and column (1-based) where it starts in its file.
#[derive(Debug, Clone)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// 1-based line; 0 when unknown.
    pub line: u64,
    /// 1-based column; 0 when unknown.
    pub column: u64,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<T>::deserialize(d)?;
        Ok(Located { value: s.value, line: s.referenced.line(), column: s.referenced.column() })
    }
}

impl<T: JsonSchema> JsonSchema for Located<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        T::json_schema(g)
    }
}

/// One step: exactly one of `request`, `poll` or `control`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["request"]},
    {"required": ["poll"]},
    {"required": ["control"]},
]))]
pub struct Step {
    /// A short label shown in reports ("exchange the code").
    #[serde(default)]
    pub name: Option<String>,
    /// Send one HTTP request.
    #[serde(default)]
    pub request: Option<Request>,
    /// Send a request again and again until its answer matches `until`.
    #[serde(default)]
    pub poll: Option<Poll>,
    /// Steer the mock through its admin API (needs the `mock-only` tag).
    #[serde(default)]
    pub control: Option<Control>,
    /// What the answer of `request` (or the last answer of `poll`) must look like.
    #[serde(default)]
    pub expect: Option<Expect>,
    /// Variables to take from the answer, for the steps after this one.
    #[serde(default)]
    pub capture: IndexMap<String, Capture>,
}

/// An HTTP request, relative to the target (and, on a mock, to the scenario's session).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// The method; GET when absent.
    #[serde(default = "default_method")]
    pub method: String,
    /// The path, starting with `/`; may carry a query string of its own (sent as written).
    pub path: String,
    /// Query parameters, form-encoded and appended to the path; a list repeats the parameter.
    #[serde(default)]
    pub query: IndexMap<String, Param>,
    /// Request headers.
    #[serde(default)]
    pub headers: IndexMap<String, Text>,
    /// A form body (`application/x-www-form-urlencoded` unless `headers` names another content type).
    #[serde(default)]
    pub form: Option<IndexMap<String, Param>>,
    /// A JSON body (`application/json` unless `headers` names another content type).
    #[serde(default)]
    pub json: Option<Value>,
    /// A raw body, sent as written (set `content-type` in `headers`).
    #[serde(default)]
    pub body: Option<String>,
    /// HTTP Basic credentials: `Authorization: Basic base64(user:password)`.
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    /// A bearer token: `Authorization: Bearer <token>`.
    #[serde(default)]
    pub bearer: Option<String>,
}

fn default_method() -> String {
    "GET".to_owned()
}

/// HTTP Basic credentials.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// The user (for LWA: the client id).
    pub user: String,
    /// The password (for LWA: the client secret).
    pub password: String,
}

/// A request that is repeated until its answer matches `until`, for device-code polling and the like.
///
/// On a mock target with `advance_clock`, the session's virtual clock moves `every_seconds` between
/// attempts instead of the runner sleeping, so a ten-minute device flow takes milliseconds.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Poll {
    /// The request to repeat.
    pub request: Request,
    /// When the answer matches this, polling stops and the step goes on (to `expect` and `capture`).
    pub until: Expect,
    /// While the answer matches this (and not `until`), keep polling; any other answer fails the step at
    /// once. Absent: keep polling on any answer.
    #[serde(default, rename = "while")]
    pub while_: Option<Expect>,
    /// Seconds between attempts (virtual seconds on a mock with `advance_clock`).
    #[serde(default = "default_every")]
    pub every_seconds: u64,
    /// Give up (and fail) after this many attempts.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// On a mock, advance the virtual clock between attempts instead of sleeping; ignored elsewhere.
    #[serde(default = "default_true")]
    pub advance_clock: bool,
}

fn default_every() -> u64 {
    5
}
fn default_attempts() -> u32 {
    20
}
fn default_true() -> bool {
    true
}

/// A change to the mock, sent to its `/__admin` API within the scenario's session (docs/ADMIN.md).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Control {
    /// `POST /__admin/reset`: the session back to its starting state.
    Reset,
    /// `POST /__admin/clock/freeze`.
    FreezeClock,
    /// `POST /__admin/clock/unfreeze`.
    UnfreezeClock,
    /// `POST /__admin/clock/advance`: move the virtual clock by this many seconds (negative moves back).
    AdvanceClock(i64),
    /// `POST /__admin/clock/set`: jump to this epoch second.
    SetClock(i64),
    /// `POST /__admin/device/approve`: approve a code pair by its user code.
    ApproveCode(ApproveCode),
    /// `POST /__admin/device/deny`.
    DenyCode(UserCode),
    /// `POST /__admin/device/expire`.
    ExpireCode(UserCode),
    /// `POST /__admin/tokens/expire`: force a token, authorization code or code pair to expire now.
    ExpireToken(ExpireToken),
    /// `POST /__admin/grants/revoke`: the customer removes the app.
    RevokeGrant(RevokeGrant),
    /// `PUT /__admin/settings`: a partial update of the session's settings.
    Settings(IndexMap<String, Value>),
    /// `POST /__admin/faults`: add a Music API fault rule.
    Fault(IndexMap<String, Value>),
    /// `DELETE /__admin/faults`.
    ClearFaults,
    /// Any other admin call, for routes this list does not name yet.
    Admin(AdminCall),
}

/// The body of `approve_code`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveCode {
    /// The code pair's user code.
    pub user_code: String,
    /// The fixture user who approves; the first fixture user when absent.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// A user code.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCode {
    /// The code pair's user code.
    pub user_code: String,
}

/// The body of `expire_token`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpireToken {
    /// An access, refresh or app token, an authorization code, a device code or a user code.
    pub token: String,
}

/// The body of `revoke_grant`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeGrant {
    /// The customer.
    pub user_id: String,
    /// The client whose grant ends.
    pub client_id: String,
}

/// A raw admin call.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminCall {
    /// The method; POST when absent.
    #[serde(default = "default_post")]
    pub method: String,
    /// The path below `/__admin`, e.g. `/clock`.
    pub path: String,
    /// The JSON body, if any.
    #[serde(default)]
    pub json: Option<Value>,
}

fn default_post() -> String {
    "POST".to_owned()
}

/// What an answer must look like. Every part given must hold; a part left out is not checked.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The status code, or a list of acceptable ones.
    #[serde(default)]
    pub status: Option<Status>,
    /// Response headers by name (any case): a value to equal, or a matcher (`{regex: …}`, `{absent: true}`).
    #[serde(default)]
    pub headers: IndexMap<String, Matcher>,
    /// The body is JSON and contains this: objects match when every key given matches (more keys are fine),
    /// arrays element by element with the same length, everything else by equality.
    #[serde(default)]
    pub json: Option<Value>,
    /// Matchers on parts of the JSON body by JSON pointer (RFC 6901; `""` is the whole body).
    #[serde(default)]
    pub pointers: IndexMap<String, Matcher>,
    /// Checks on the body as text (HTML pages, plain errors).
    #[serde(default)]
    pub text: Option<TextExpect>,
    /// The answer is a redirect; checks on its `Location`. Implies a 3xx status unless `status` is given.
    #[serde(default)]
    pub redirect: Option<RedirectExpect>,
    /// The body is audio that a real decoder (Symphonia) decodes to this: codec, rate, channels, depth,
    /// duration, dominant frequency.
    #[serde(default)]
    pub audio: Option<AudioExpect>,
    /// The body is an MPEG-DASH manifest (parsed by `dash-mpd`) with these representations; `fetch`
    /// downloads and decodes some of them.
    #[serde(default)]
    pub dash: Option<DashExpect>,
    /// The step's request, sent again with `Range` headers, answers with exactly those bytes of the whole
    /// (the step's request without `Range`), a correct `Content-Range`, or 416. Only on `request` steps.
    #[serde(default)]
    pub range: Option<OneOrList<RangeCase>>,
}

/// One status code or a list of them.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Status {
    /// Exactly this code.
    One(u16),
    /// Any of these codes.
    Any(Vec<u16>),
}

impl Status {
    /// Whether `code` is acceptable.
    pub fn accepts(&self, code: u16) -> bool {
        match self {
            Status::One(c) => *c == code,
            Status::Any(cs) => cs.contains(&code),
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::One(c) => write!(f, "{c}"),
            Status::Any(cs) => {
                let list: Vec<String> = cs.iter().map(u16::to_string).collect();
                write!(f, "one of {}", list.join(", "))
            }
        }
    }
}

/// Checks on the body text.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextExpect {
    /// The whole body equals this.
    #[serde(default)]
    pub equals: Option<String>,
    /// Each of these occurs in the body.
    #[serde(default)]
    pub contains: OneOrMany,
    /// None of these occurs in the body.
    #[serde(default)]
    pub not_contains: OneOrMany,
    /// The body matches this regular expression (Rust `regex` syntax; not anchored unless you anchor it).
    #[serde(default)]
    pub regex: Option<String>,
}

/// One string or a list of strings.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(from = "OneOrManyRepr")]
pub struct OneOrMany(pub Vec<String>);

#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
enum OneOrManyRepr {
    One(String),
    Many(Vec<String>),
}

impl From<OneOrManyRepr> for OneOrMany {
    fn from(r: OneOrManyRepr) -> Self {
        match r {
            OneOrManyRepr::One(s) => OneOrMany(vec![s]),
            OneOrManyRepr::Many(v) => OneOrMany(v),
        }
    }
}

/// Checks on a redirect's `Location` header.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedirectExpect {
    /// The whole `Location` value, as sent (so parameter order and encoding count).
    #[serde(default)]
    pub location: Option<Matcher>,
    /// The target without its query and fragment, e.g. `http://127.0.0.1:9090/cb`.
    #[serde(default)]
    pub base: Option<String>,
    /// Query parameters (decoded) by name.
    #[serde(default)]
    pub query: IndexMap<String, Matcher>,
    /// Fragment parameters (decoded; `response_type=token` puts the token there) by name.
    #[serde(default)]
    pub fragment: IndexMap<String, Matcher>,
}

/// Where a captured variable comes from.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Capture {
    /// A JSON pointer into the body (keeps the JSON type: a number stays a number).
    Pointer(String),
    /// A response header.
    Header(String),
    /// A query parameter of the redirect's `Location`.
    Query(String),
    /// A fragment parameter of the redirect's `Location`.
    Fragment(String),
    /// The first group (or the whole match) of a regular expression over the body text.
    Regex(String),
}

/// A value sent as text: a string, or a number or boolean written as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor).map(Text)
    }
}

struct TextVisitor;

impl Visitor<'_> for TextVisitor {
    type Value = String;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string, number or boolean")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

impl JsonSchema for Text {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Text".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": ["string", "number", "boolean"]})
    }
}

/// A query or form parameter: one value, or a list that repeats the parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param(pub Vec<String>);

impl<'de> Deserialize<'de> for Param {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ParamVisitor;
        impl<'de> Visitor<'de> for ParamVisitor {
            type Value = Param;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, number or boolean, or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Param, E> {
                Ok(Param(vec![v.to_owned()]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Param, E> {
                Ok(Param(vec![v.to_string()]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Param, E> {
                Ok(Param(vec![v.to_string()]))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Param, E> {
                Ok(Param(vec![v.to_string()]))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Param, E> {
                Ok(Param(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Param, A::Error> {
                let mut out = Vec::new();
                while let Some(Text(t)) = seq.next_element::<Text>()? {
                    out.push(t);
                }
                Ok(Param(out))
            }
        }
        d.deserialize_any(ParamVisitor)
    }
}

impl JsonSchema for Param {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Param".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                {"type": ["string", "number", "boolean"]},
                {"type": "array", "items": {"type": ["string", "number", "boolean"]}}
            ]
        })
    }
}

/// A check on one value (a JSON pointer's target, a header, a redirect parameter).
///
/// Written either as a plain value, which the value must equal, or as a map of checks that must all hold:
/// `{regex: "^Atza\\|", length: {min: 355}}`. To compare with an object, use `{equals: {...}}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Matcher {
    /// The value equals this (numbers compare by value: `3600` equals `3600.0`).
    Literal(Value),
    /// Every check given holds.
    Spec(Box<MatcherSpec>),
}

/// The checks a [`Matcher`] map can hold.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatcherSpec {
    /// Equals this value.
    #[serde(default)]
    pub equals: Option<Value>,
    /// Differs from this value (a missing value differs from everything).
    #[serde(default)]
    pub not_equals: Option<Value>,
    /// A string matching this regular expression (not anchored unless you anchor it).
    #[serde(default)]
    pub regex: Option<String>,
    /// A string containing this text, or an array containing this element.
    #[serde(default)]
    pub contains: Option<Value>,
    /// Equals one of these.
    #[serde(default)]
    pub one_of: Option<Vec<Value>>,
    /// Has this JSON type.
    #[serde(default, rename = "type")]
    pub kind: Option<JsonType>,
    /// A string's length in characters, an array's or object's number of entries.
    #[serde(default)]
    pub length: Option<Length>,
    /// A number at least this.
    #[serde(default)]
    pub min: Option<f64>,
    /// A number at most this.
    #[serde(default)]
    pub max: Option<f64>,
    /// An object whose keys are exactly these, in this order (LWA's key order is part of its wire shape).
    #[serde(default)]
    pub keys: Option<Vec<String>>,
    /// `true`: the value is there; `false`: it is not.
    #[serde(default, alias = "present")]
    pub exists: Option<bool>,
    /// `true`: the value is not there.
    #[serde(default)]
    pub absent: Option<bool>,
}

/// A JSON type name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JsonType {
    /// A string.
    String,
    /// Any number.
    Number,
    /// A number without a fractional part.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// `null`.
    Null,
    /// An array.
    Array,
    /// An object.
    Object,
}

/// A length: exact, or a range.
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Length {
    /// Exactly this many.
    Exact(u64),
    /// Within these bounds (each optional, inclusive).
    Range {
        /// At least.
        #[serde(default)]
        min: Option<u64>,
        /// At most.
        #[serde(default)]
        max: Option<u64>,
    },
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MatcherVisitor;
        impl<'de> Visitor<'de> for MatcherVisitor {
            type Value = Matcher;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a value to equal, or a map of checks (equals, regex, type, length, min, max, …)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Matcher, E> {
                Ok(Matcher::Literal(Value::from(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Matcher, E> {
                Ok(Matcher::Literal(Value::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Matcher, E> {
                Ok(Matcher::Literal(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Matcher, E> {
                Ok(Matcher::Literal(Value::from(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Matcher, E> {
                Ok(Matcher::Literal(Value::from(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Matcher, E> {
                Ok(Matcher::Literal(Value::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<Matcher, E> {
                Ok(Matcher::Literal(Value::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Matcher, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<Value>()? {
                    out.push(v);
                }
                Ok(Matcher::Literal(Value::Array(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Matcher, A::Error> {
                let spec = MatcherSpec::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Matcher::Spec(Box::new(spec)))
            }
        }
        d.deserialize_any(MatcherVisitor)
    }
}

impl JsonSchema for Matcher {
    fn schema_name() -> Cow<'static, str> {
        "Matcher".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let spec = g.subschema_for::<MatcherSpec>();
        json_schema!({
            "description": "A value to equal, or a map of checks that must all hold.",
            "anyOf": [
                {"type": ["string", "number", "boolean", "null", "array"]},
                spec
            ]
        })
    }
}
