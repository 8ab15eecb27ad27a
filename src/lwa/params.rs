//! Request parameters of the LWA POST endpoints, read the way real clients send them (`lwa.md` §2, §14):
//! form bodies (with or without `;charset=UTF-8`, percent-encoded or built by plain string concatenation),
//! JSON bodies with the same snake_case keys, parameters in the query string of a POST with an empty body,
//! chunked bodies without `Content-Length`, and HTTP Basic client authentication. Query and body
//! parameters are merged; a parameter given twice with different values is an error.

use axum::body::Body;
use axum::http::{HeaderMap, Request, header};
use base64::Engine;
use percent_encoding::percent_decode;

use super::error::LwaError;
use crate::journal::{MisplacedSecret, Place, redact};

/// Decodes an `application/x-www-form-urlencoded` string (also used for query strings).
///
/// `+` is a space, `%XX` a byte; the decoded bytes must be UTF-8. A `|` or other character that a
/// string-concatenating client did not encode is taken literally.
///
/// # Errors
/// `None` when a name or value does not decode to UTF-8.
pub fn parse_form(input: &[u8]) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for pair in input.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        out.push((decode_component(name)?, decode_component(value)?));
    }
    Some(out)
}

fn decode_component(raw: &[u8]) -> Option<String> {
    // One allocation for the common case (no `+`): a megabyte-long value costs a megabyte, not three.
    let bytes: Vec<u8> = if raw.contains(&b'+') {
        let spaced: Vec<u8> = raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
        percent_decode(&spaced).collect()
    } else {
        percent_decode(raw).collect()
    };
    String::from_utf8(bytes).ok()
}

/// The most parameters an LWA request may carry in its query or its body (documented in `docs/ROUTES.md`):
/// more is 400 `invalid_request` "Malformed request", refused before any is decoded, so a megabyte of `k=v&`
/// costs the server no more than reading it.
pub const MAX_PARAMS: usize = 1000;

/// Whether `input` (a query, a form or a JSON body) could hold more than [`MAX_PARAMS`] parameters: more
/// `&`-separated pieces, or (JSON) more commas, than that.
fn too_many_params(input: &[u8], json: bool) -> bool {
    let sep = if json { b',' } else { b'&' };
    input.iter().filter(|&&b| b == sep).count() >= MAX_PARAMS
}

/// Client credentials from an `Authorization: Basic` header.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicAuth {
    /// The client id.
    pub client_id: String,
    /// The secret.
    pub client_secret: String,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BasicAuth({}, [redacted])", self.client_id)
    }
}

/// Reads `Authorization: Basic base64(id:secret)`; each half may itself be form-encoded (RFC 6749 §2.3.1).
///
/// # Errors
/// `invalid_client` when the header is Basic but cannot be decoded.
pub fn basic_auth(headers: &HeaderMap) -> Result<Option<BasicAuth>, LwaError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let Ok(value) = value.to_str() else { return Err(LwaError::invalid_client()) };
    let value = value.trim();
    // `Basic` with no credentials at all is a broken Basic header, not an absent one.
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(LwaError::invalid_client)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(LwaError::invalid_client)?;
    let id = decode_component(id.as_bytes()).ok_or_else(LwaError::invalid_client)?;
    let secret = decode_component(secret.as_bytes()).ok_or_else(LwaError::invalid_client)?;
    Ok(Some(BasicAuth { client_id: id, client_secret: secret }))
}

/// The merged parameters of one LWA request.
#[derive(Debug, Default)]
pub struct LwaParams {
    pairs: Vec<(String, String)>,
    /// How many of `pairs` came from the query string (the first ones); the rest came from the body.
    from_query: usize,
    /// HTTP Basic client credentials, when sent.
    pub basic: Option<BasicAuth>,
}

impl LwaParams {
    /// Reads the query string, the body (up to `limit` bytes) and the Basic header.
    ///
    /// # Errors
    /// 413 over the limit; `invalid_request` "Malformed request" for an undecodable body or an unsupported
    /// content type; `invalid_client` for a broken Basic header.
    pub async fn from_request(req: Request<Body>, limit: usize) -> Result<Self, LwaError> {
        let (parts, body) = req.into_parts();
        if parts.uri.query().is_some_and(|q| too_many_params(q.as_bytes(), false)) {
            return Err(LwaError::malformed());
        }
        let mut pairs = match parts.uri.query() {
            Some(q) => parse_form(q.as_bytes()).ok_or_else(LwaError::malformed)?,
            None => Vec::new(),
        };
        let from_query = pairs.len();
        let basic = basic_auth(&parts.headers)?;
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(s) = source {
                if s.is::<http_body_util::LengthLimitError>() {
                    return LwaError::too_large(limit);
                }
                source = s.source();
            }
            LwaError::malformed()
        })?;
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            let content_type = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
            let looks_json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
            if too_many_params(&bytes, looks_json) {
                return Err(LwaError::malformed());
            }
            match content_type.as_deref() {
                Some("application/x-www-form-urlencoded") => {
                    pairs.extend(parse_form(trim_ascii(&bytes)).ok_or_else(LwaError::malformed)?)
                }
                Some("application/json") => pairs.extend(parse_json(&bytes)?),
                Some(ct) if ct.ends_with("+json") => pairs.extend(parse_json(&bytes)?),
                // Some concatenating clients send no Content-Type at all.
                None | Some("") if looks_json => pairs.extend(parse_json(&bytes)?),
                None | Some("") | Some("text/plain") => {
                    pairs.extend(parse_form(trim_ascii(&bytes)).ok_or_else(LwaError::malformed)?)
                }
                Some(_) => return Err(LwaError::malformed()),
            }
        }
        Ok(LwaParams { pairs, from_query, basic })
    }

    /// Builds parameters from already-decoded pairs, as if from a body (for tests and the consent page form).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        LwaParams { pairs, from_query: 0, basic: None }
    }

    /// Every parameter, in the order received.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The value of `name`, if present and non-empty.
    ///
    /// # Errors
    /// `invalid_request` when the parameter is given more than once with different values.
    pub fn get(&self, name: &str) -> Result<Option<&str>, LwaError> {
        let mut found: Option<&str> = None;
        for (k, v) in &self.pairs {
            if k == name {
                match found {
                    Some(prev) if prev != v => return Err(LwaError::invalid_param(name)),
                    _ => found = Some(v),
                }
            }
        }
        Ok(found.filter(|v| !v.is_empty()))
    }

    /// The value of `name`.
    ///
    /// # Errors
    /// `invalid_request` "missing a required parameter" when absent or empty; see [`LwaParams::get`].
    pub fn require(&self, name: &str) -> Result<&str, LwaError> {
        self.get(name)?.ok_or_else(|| LwaError::missing(name))
    }

    /// The secrets the body sent under another name than their own (`clientSecret`, `secret`, a JSON field of
    /// any name): the query string's are the outer layer's to note, for every request alike.
    pub fn misplaced_in_body(&self, path: &str, fixtures: &crate::fixtures::Fixtures) -> Vec<MisplacedSecret> {
        let known = |v: &str| fixtures.knows_secret(v);
        self.pairs[self.from_query..]
            .iter()
            .filter_map(|(k, v)| {
                let kind = crate::journal::secrets::misplaced(Place::Body, k, v, path, &known)?;
                Some(MisplacedSecret { kind, place: Place::Body, name: k.clone() })
            })
            .collect()
    }

    /// The pairs with secrets redacted, for the journal.
    pub fn redacted(&self) -> Vec<(String, String)> {
        let mut out: Vec<_> = self.pairs.iter().map(|(k, v)| (k.clone(), redact(k, v))).collect();
        if let Some(b) = &self.basic {
            out.push(("basic_client_id".into(), b.client_id.clone()));
        }
        out
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// A JSON object's members in document order, repeated keys kept (a `serde_json::Map` keeps only the
/// last), so that `{"a":"1","a":"2"}` is caught like `a=1&a=2`.
struct JsonMembers(Vec<(String, serde_json::Value)>);

impl<'de> serde::Deserialize<'de> for JsonMembers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = JsonMembers;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<JsonMembers, A::Error> {
                let mut out = Vec::new();
                while let Some(member) = map.next_entry::<String, serde_json::Value>()? {
                    out.push(member);
                }
                Ok(JsonMembers(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn parse_json(bytes: &[u8]) -> Result<Vec<(String, String)>, LwaError> {
    let JsonMembers(members) = serde_json::from_slice(bytes).map_err(|_| LwaError::malformed())?;
    let mut out = Vec::with_capacity(members.len());
    for (k, v) in members {
        let s = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Null => continue,
            // A scope list as a JSON array is joined with spaces, as the SP-API Java client serialises it.
            serde_json::Value::Array(items) if k == "scope" => {
                let mut parts = Vec::with_capacity(items.len());
                for i in items {
                    match i {
                        serde_json::Value::String(s) => parts.push(s),
                        _ => return Err(LwaError::invalid_param(&k)),
                    }
                }
                parts.join(" ")
            }
            serde_json::Value::Object(o) if k == "scope_data" => serde_json::Value::Object(o).to_string(),
            _ => return Err(LwaError::invalid_param(&k)),
        };
        out.push((k, s));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn concatenated_forms_keep_pipes_and_decode_plus() {
        let p = parse_form(b"grant_type=refresh_token&refresh_token=Atzr|IwEB-x_y&scope=a+b%20c").unwrap();
        assert_eq!(p[1], ("refresh_token".into(), "Atzr|IwEB-x_y".into()));
        assert_eq!(p[2], ("scope".into(), "a b c".into()));
    }

    #[test]
    fn json_bodies_keep_repeated_keys_and_reject_non_objects() {
        let p = LwaParams::from_pairs(parse_json(br#"{"a":"1","b":2,"a":"3","n":null}"#).unwrap());
        assert_eq!(p.get("a").unwrap_err(), LwaError::invalid_param("a"));
        assert_eq!(p.get("b").unwrap(), Some("2"));
        assert_eq!(p.get("n").unwrap(), None);
        assert_eq!(parse_json(b"[1]").unwrap_err(), LwaError::malformed());
        assert_eq!(parse_json(br#"{"a":1} x"#).unwrap_err(), LwaError::malformed());
        assert_eq!(parse_json(br#"{"scope":["a","b"]}"#).unwrap(), vec![("scope".to_owned(), "a b".to_owned())]);
    }

    #[test]
    fn invalid_utf8_is_rejected() {
        assert!(parse_form(b"a=%FF%FE").is_none());
    }

    #[test]
    fn differing_duplicates_are_errors_but_equal_ones_are_not() {
        let p = LwaParams::from_pairs(vec![
            ("a".into(), "1".into()),
            ("a".into(), "1".into()),
            ("b".into(), "1".into()),
            ("b".into(), "2".into()),
        ]);
        assert_eq!(p.get("a").unwrap(), Some("1"));
        assert_eq!(p.get("b").unwrap_err(), LwaError::invalid_param("b"));
        assert_eq!(p.require("c").unwrap_err(), LwaError::missing("c"));
    }

    #[test]
    fn basic_auth_decodes_form_encoded_halves() {
        let mut h = HeaderMap::new();
        let v = base64::engine::general_purpose::STANDARD.encode("my%20id:s%3Acret");
        h.insert(header::AUTHORIZATION, format!("Basic {v}").parse().unwrap());
        let b = basic_auth(&h).unwrap().unwrap();
        assert_eq!((b.client_id.as_str(), b.client_secret.as_str()), ("my id", "s:cret"));
        for broken in ["Basic !!!", "Basic", "basic  "] {
            h.insert(header::AUTHORIZATION, broken.parse().unwrap());
            assert_eq!(basic_auth(&h).unwrap_err(), LwaError::invalid_client(), "{broken:?}");
        }
        h.insert(header::AUTHORIZATION, "Bearer x".parse().unwrap());
        assert_eq!(basic_auth(&h).unwrap(), None);
    }

    /// Where one generated parameter is sent.
    #[derive(Clone, Debug)]
    enum Place {
        Query,
        Body,
        /// In the query and in the body, with the same value: not a conflict.
        Both,
        /// In the query with the value, in the body with this other value: `invalid_param`.
        Conflict(String),
    }

    /// How the body is sent.
    #[derive(Clone, Copy, Debug)]
    enum BodyKind {
        /// `application/x-www-form-urlencoded`, with this `Content-Type` (absent, `text/plain` or charset).
        Form(Option<&'static str>),
        /// A JSON object, with this `Content-Type` (absent: recognised by its `{`).
        Json(Option<&'static str>),
    }

    const NAMES: &[&str] = &[
        "grant_type",
        "code",
        "redirect_uri",
        "refresh_token",
        "scope",
        "code_verifier",
        "state",
        "response_type",
        "device_code",
        "user_code",
    ];

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => "[-a-zA-Z0-9_.~]{1,12}",
            2 => "Atz[ar]\\|[A-Za-z0-9_-]{4,8}",
            2 => "[&=+%|;:/?# a-z]{0,8}",
            1 => "[1-9][0-9]{0,5}|true|false",
            1 => "(music::[a-z]{3,8} ?){1,3}",
            1 => "\\PC{0,6}",
            1 => Just(String::new()),
        ]
    }

    /// A parameter set of distinct names, each with where it goes.
    fn param_set() -> impl Strategy<Value = Vec<(String, String, Place)>> {
        let name = prop_oneof![3 => proptest::sample::select(NAMES).prop_map(str::to_owned), 1 => "[a-z_]{1,8}"];
        // 0–5 query, 6–11 body, 12 both with the same value, 13 both with another value (if it differs).
        let place = 0..14u8;
        // A scope is usually a space-separated list, which a JSON body may send as an array.
        let name_value = name.prop_flat_map(|n| {
            let v = if n == "scope" { "[a-z:]{3,12}( [a-z:]{3,12}){0,2}".boxed() } else { value().boxed() };
            (Just(n), v)
        });
        let entry = (name_value, place, value()).prop_map(|((n, v), place, other)| {
            let place = match place {
                0..=5 => Place::Query,
                6..=11 => Place::Body,
                13 if other != v => Place::Conflict(other),
                _ => Place::Both,
            };
            (n, v, place)
        });
        proptest::collection::vec(entry, 0..8).prop_map(|mut v| {
            let mut seen = std::collections::HashSet::new();
            v.retain(|(n, _, _)| seen.insert(n.clone()));
            v
        })
    }

    fn body_kind() -> impl Strategy<Value = BodyKind> {
        prop_oneof![
            3 => Just(BodyKind::Form(Some("application/x-www-form-urlencoded"))),
            1 => Just(BodyKind::Form(Some("application/x-www-form-urlencoded;charset=UTF-8"))),
            1 => Just(BodyKind::Form(Some("text/plain"))),
            1 => Just(BodyKind::Form(None)),
            3 => Just(BodyKind::Json(Some("application/json"))),
            1 => Just(BodyKind::Json(Some("application/vnd.amazon+json; charset=utf-8"))),
            1 => Just(BodyKind::Json(None)),
        ]
    }

    /// How the client credentials travel: nowhere, in the body, or in HTTP Basic (the secret possibly
    /// empty there and sent in the body instead), optionally with a `client_id` in the body too.
    #[derive(Clone, Debug)]
    enum Creds {
        None,
        Body,
        Basic { secret_in_body: bool, body_id: Option<BodyId> },
    }

    /// A `client_id` sent in the body next to HTTP Basic.
    #[derive(Clone, Debug)]
    enum BodyId {
        Same,
        Other(String),
    }

    fn creds() -> impl Strategy<Value = Creds> {
        let body_id = prop_oneof![
            2 => Just(None),
            1 => Just(Some(BodyId::Same)),
            1 => "[a-z0-9.-]{0,12}".prop_map(|s| Some(BodyId::Other(s))),
        ];
        prop_oneof![
            1 => Just(Creds::None),
            2 => Just(Creds::Body),
            3 => (any::<bool>(), body_id).prop_map(|(secret_in_body, body_id)| Creds::Basic { secret_in_body, body_id }),
        ]
    }

    fn form(pairs: &[(String, String)]) -> String {
        form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
    }

    /// A JSON object written member by member, so that a repeated key stays repeated; a `scope` of
    /// single-space-separated words is sometimes sent as an array, numbers and booleans sometimes bare.
    fn json(pairs: &[(String, String)], bare: bool) -> String {
        let q = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
        let members: Vec<String> = pairs
            .iter()
            .map(|(k, v)| {
                let words: Vec<&str> = v.split(' ').collect();
                let value = if bare && k == "scope" && words.iter().all(|w| !w.is_empty()) {
                    format!("[{}]", words.iter().map(|w| q(w)).collect::<Vec<_>>().join(","))
                } else if bare && (v == "true" || v == "false" || v.parse::<u32>().is_ok_and(|n| n.to_string() == *v)) {
                    v.clone()
                } else {
                    q(v)
                };
                format!("{}:{value}", q(k))
            })
            .collect();
        format!("{{{}}}", members.join(","))
    }

    /// The state `identify_client` needs: embedded fixtures, built once.
    fn state() -> &'static crate::context::AppState {
        static STATE: OnceLock<crate::context::AppState> = OnceLock::new();
        STATE.get_or_init(|| crate::server::build_state(&crate::server::ServerConfig::default()).expect("state"))
    }

    /// A confidential client of the embedded fixtures: its id and secret.
    fn web_client() -> (String, String) {
        let profiles = state().fixtures.profiles();
        let client =
            profiles.iter().flat_map(|p| &p.clients).find(|c| c.client_secret.is_some()).expect("a web client");
        let secret = client.client_secret.as_ref().map(|s| s.expose().to_owned()).unwrap_or_default();
        (client.client_id.as_str().to_owned(), secret)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A parameter set split across the query, a form or JSON body and HTTP Basic is read back as that
        /// set: the merged pairs are the query's then the body's, in order; `get` gives every value (empty
        /// ones as absent), an equal duplicate is fine and a differing one is `invalid_param`; Basic
        /// credentials are kept apart, and a body `client_id` that differs from Basic's is `invalid_client`.
        ///
        /// Why nearly every case reaches the merge, without counting: every generated request is
        /// well-formed, so every case parses and compares the whole set (only an empty set without
        /// credentials, 1/8 · 1/6, has nothing to merge); a parameter goes to the query 3 times in 7, to the
        /// body 3 times in 7 and to both 1 time in 7 (half of those with another value), so most cases with
        /// two or more parameters fill both the query and the body. The credentials are sent in 5 cases in 6, in
        /// Basic in 3 in 6, and 1 in 4 of those adds a differing body `client_id`. A temporary tally over
        /// 4096 cases measured: 98 % with something to merge, 74 % with both a query and a body (42 % JSON,
        /// 51 % form bodies), 20 % with a conflicting duplicate, 22 % with an equal one, 50 % with Basic,
        /// 12 % with a Basic conflict.
        #[test]
        fn merged_parameters_are_the_parameters_sent(set in param_set(), kind in body_kind(), bare in any::<bool>(), creds in creds()) {
            let (client_id, secret) = web_client();
            let (mut query, mut body) = (Vec::new(), Vec::new());
            for (n, v, place) in &set {
                match place {
                    Place::Query => query.push((n.clone(), v.clone())),
                    Place::Body => body.push((n.clone(), v.clone())),
                    Place::Both => {
                        query.push((n.clone(), v.clone()));
                        body.push((n.clone(), v.clone()));
                    }
                    Place::Conflict(other) => {
                        query.push((n.clone(), v.clone()));
                        body.push((n.clone(), other.clone()));
                    }
                }
            }
            let mut basic = None;
            match &creds {
                Creds::None => {}
                Creds::Body => {
                    body.push(("client_id".into(), client_id.clone()));
                    body.push(("client_secret".into(), secret.clone()));
                }
                Creds::Basic { secret_in_body, body_id } => {
                    let basic_secret = if *secret_in_body { String::new() } else { secret.clone() };
                    basic = Some((client_id.clone(), basic_secret));
                    if *secret_in_body {
                        body.push(("client_secret".into(), secret.clone()));
                    }
                    match body_id {
                        None => {}
                        Some(BodyId::Same) => body.push(("client_id".into(), client_id.clone())),
                        Some(BodyId::Other(o)) => body.push(("client_id".into(), o.clone())),
                    }
                }
            }

            let uri = if query.is_empty() { "/auth/o2/token".to_owned() } else { format!("/auth/o2/token?{}", form(&query)) };
            let mut req = Request::builder().method("POST").uri(uri);
            let bytes = match kind {
                _ if body.is_empty() => String::new(),
                BodyKind::Form(ct) => {
                    if let Some(ct) = ct {
                        req = req.header(header::CONTENT_TYPE, ct);
                    }
                    form(&body)
                }
                BodyKind::Json(ct) => {
                    if let Some(ct) = ct {
                        req = req.header(header::CONTENT_TYPE, ct);
                    }
                    json(&body, bare)
                }
            };
            if let Some((id, s)) = &basic {
                let enc = |x: &str| form_urlencoded::byte_serialize(x.as_bytes()).collect::<String>();
                let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(id), enc(s)));
                req = req.header(header::AUTHORIZATION, format!("Basic {b64}"));
            }
            let req = req.body(Body::from(bytes.clone())).expect("request");
            let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
            let p = rt.block_on(LwaParams::from_request(req, 1 << 20)).expect("well-formed requests parse");

            // The merged view: the query's pairs, then the body's.
            let merged: Vec<(String, String)> = query.iter().chain(&body).cloned().collect();
            prop_assert_eq!(&p.pairs, &merged, "body {:?}", bytes);
            prop_assert_eq!(p.basic.clone(), basic.map(|(client_id, client_secret)| BasicAuth { client_id, client_secret }));
            for (n, v, place) in &set {
                let want = match place {
                    Place::Conflict(_) => Err(LwaError::invalid_param(n)),
                    _ => Ok(Some(v.as_str()).filter(|v| !v.is_empty())),
                };
                prop_assert_eq!(p.get(n), want, "{}", n);
            }

            // The credentials, wherever they came from; a differing body client_id next to Basic is refused.
            // (A generated parameter named client_id or client_secret would collide: the names above differ.)
            let got = crate::lwa::identify_client(state(), &p).map(|c| c.map(|c| (c.client.client_id.as_str().to_owned(), c.with_secret)));
            let want = match &creds {
                Creds::None => Ok(None),
                // An empty body client_id counts as absent (`get`), so it cannot conflict.
                Creds::Basic { body_id: Some(BodyId::Other(o)), .. } if !o.is_empty() && *o != client_id => {
                    Err(LwaError::invalid_client())
                }
                _ => Ok(Some((client_id.clone(), true))),
            };
            prop_assert_eq!(got, want);
        }
    }
}
