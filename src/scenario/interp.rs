//! `{{var}}` interpolation, the variables a scenario sees, and the fixture aliases.
//!
//! A string may hold any number of `{{name}}` references; `\{{` writes a literal `{{`. A string that is
//! exactly one reference (`"{{expires}}"`) takes the variable's JSON value with its type, so a captured
//! number compares equal to a number. Names are dotted words: `token`, `fixture.client.web.id`.
//!
//! Variables come, in this order of precedence (later wins), from: the fixture aliases (read from the
//! target's `/__admin/security-profiles` and `/__admin/users`, or from `--vars` for a target without an admin
//! API), the built-ins `target` and `session`, the scenario's `vars`, and `capture`s of earlier steps.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

/// Every fixture alias a scenario may use, with what it names. `scenarios/README.md` lists them too.
pub const FIXTURE_ALIASES: &[(&str, &str)] = &[
    ("fixture.profile.music.id", "the first security profile enabled for the Music API (the V1 x-api-key)"),
    ("fixture.profile.music.name", "its name"),
    ("fixture.profile.not_music.id", "the first security profile not enabled for music"),
    ("fixture.profile.not_music.name", "its name"),
    ("fixture.client.web.id", "the music profile's first confidential (web) client"),
    ("fixture.client.web.secret", "its secret"),
    ("fixture.client.web.redirect_uri", "its first return URL"),
    ("fixture.client.public.id", "the music profile's first public (PKCE) client"),
    ("fixture.client.public.redirect_uri", "its first return URL"),
    ("fixture.client.device.id", "the music profile's first device (code-based linking) client"),
    ("fixture.client.tv.id", "the music profile's first confidential client enabled for code-based linking"),
    ("fixture.client.tv.secret", "its secret"),
    ("fixture.client.tv.redirect_uri", "its first return URL"),
    ("fixture.client.not_music.id", "the first client of the profile not enabled for music"),
    ("fixture.client.not_music.secret", "its secret"),
    ("fixture.client.not_music.redirect_uri", "its first return URL"),
    ("fixture.client.app.id", "the first client allowed the client_credentials grant"),
    ("fixture.client.app.secret", "its secret"),
    ("fixture.user.first.id", "the first fixture user (auto-consent and bare approvals sign in as them)"),
    ("fixture.user.unlimited.id", "the first user with the UNLIMITED tier"),
    ("fixture.user.prime.id", "the first user with the PRIME tier"),
    ("fixture.user.free.id", "the first user with the FREE tier"),
    ("fixture.user.no_music.id", "the first user without an Amazon Music account"),
];

/// The user attributes every `fixture.user.<who>` alias also has besides `id`.
pub const USER_FIELDS: &[&str] = &["name", "email", "postal_code"];

/// Built-in variables.
pub const BUILTINS: &[(&str, &str)] = &[
    ("target", "the base URL requests go to, with the session prefix on a mock (`http://127.0.0.1:PORT/s/ID`)"),
    ("session", "the scenario's session id on a mock; empty elsewhere"),
];

/// Whether `name` is a known fixture alias.
pub fn is_fixture_alias(name: &str) -> bool {
    FIXTURE_ALIASES.iter().any(|(n, _)| *n == name)
        || name.strip_prefix("fixture.user.").is_some_and(|rest| {
            rest.split_once('.').is_some_and(|(who, field)| {
                ["first", "unlimited", "prime", "free", "no_music"].contains(&who) && USER_FIELDS.contains(&field)
            })
        })
}

/// Whether `name` is a built-in variable.
pub fn is_builtin(name: &str) -> bool {
    BUILTINS.iter().any(|(n, _)| *n == name)
}

/// Whether `name` is a well-formed variable name: dotted words of `[A-Za-z0-9_]`, the first starting with
/// a letter or `_`.
pub fn is_var_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
}

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Literal text (with `\{{` already turned into `{{`).
    Text(Cow<'a>),
    /// A `{{name}}` reference (name trimmed).
    Var(&'a str),
}

type Cow<'a> = std::borrow::Cow<'a, str>;

/// Why a template cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{` without `}}`.
    #[error("`{{{{` without a closing `}}}}`")]
    Unclosed,
    /// `{{}}` or a name with characters other than letters, digits, `_` and `.`.
    #[error("`{{{{{0}}}}}` is not a variable name: use letters, digits, `_` and `.`")]
    BadName(String),
}

/// Splits a template into text and references.
///
/// # Errors
/// [`TemplateError`] for an unclosed or malformed reference.
pub fn parse(template: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    let mut borrowed_start: Option<&str> = Some(template);
    while let Some(i) = rest.find("{{") {
        if rest[..i].ends_with('\\') {
            text.push_str(&rest[..i - 1]);
            text.push_str("{{");
            rest = &rest[i + 2..];
            borrowed_start = None;
            continue;
        }
        text.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after.find("}}").ok_or(TemplateError::Unclosed)?;
        let name = after[..end].trim();
        if !is_var_name(name) {
            return Err(TemplateError::BadName(after[..end].to_owned()));
        }
        if !text.is_empty() {
            out.push(Piece::Text(Cow::Owned(std::mem::take(&mut text))));
        }
        out.push(Piece::Var(name));
        rest = &after[end + 2..];
        borrowed_start = None;
    }
    if let Some(all) = borrowed_start {
        if !all.is_empty() {
            out.push(Piece::Text(Cow::Borrowed(all)));
        }
        return Ok(out);
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Piece::Text(Cow::Owned(text)));
    }
    Ok(out)
}

/// The names a template refers to.
///
/// # Errors
/// [`TemplateError`].
pub fn references(template: &str) -> Result<Vec<&str>, TemplateError> {
    Ok(parse(template)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Var(n) => Some(n),
            Piece::Text(_) => None,
        })
        .collect())
}

/// Why a value could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpError {
    /// A malformed template.
    #[error("in {template:?}: {error}")]
    Template {
        /// The template.
        template: String,
        /// What is wrong.
        error: TemplateError,
    },
    /// A reference to a variable that has no value.
    #[error("{{{{{name}}}}} has no value{hint}")]
    Unknown {
        /// The variable.
        name: String,
        /// Why, when known (" (the fixtures have no such client)").
        hint: String,
    },
}

/// The variables of one scenario run.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: HashMap<String, Value>,
}

impl Vars {
    /// No variables.
    pub fn new() -> Self {
        Vars::default()
    }

    /// Sets a variable.
    pub fn set(&mut self, name: impl Into<String>, value: Value) {
        self.values.insert(name.into(), value);
    }

    /// A variable's value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// Adds every variable of `other`, replacing those with the same name.
    pub fn extend(&mut self, other: &Vars) {
        for (k, v) in &other.values {
            self.values.insert(k.clone(), v.clone());
        }
    }

    /// The variables as a sorted map (for reports and tests).
    pub fn to_map(&self) -> BTreeMap<String, Value> {
        self.values.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }

    fn lookup(&self, name: &str) -> Result<&Value, InterpError> {
        match self.values.get(name) {
            None => {
                let hint = if name.starts_with("fixture.") {
                    if is_fixture_alias(name) {
                        " (the target's fixtures have nothing that fits this alias)".to_owned()
                    } else {
                        " (not a fixture alias: see scenarios/README.md)".to_owned()
                    }
                } else {
                    String::new()
                };
                Err(InterpError::Unknown { name: name.to_owned(), hint })
            }
            Some(v) => Ok(v),
        }
    }

    /// Interpolates a string into a string.
    ///
    /// # Errors
    /// [`InterpError`] for a malformed template or a variable without a value.
    pub fn text(&self, template: &str) -> Result<String, InterpError> {
        let pieces = parse(template).map_err(|error| InterpError::Template { template: template.to_owned(), error })?;
        let mut out = String::with_capacity(template.len());
        for p in pieces {
            match p {
                Piece::Text(t) => out.push_str(&t),
                Piece::Var(name) => out.push_str(&value_as_text(self.lookup(name)?)),
            }
        }
        Ok(out)
    }

    /// Interpolates every string inside a JSON value. A string that is exactly one reference becomes the
    /// variable's value with its JSON type.
    ///
    /// # Errors
    /// [`InterpError`].
    pub fn value(&self, v: &Value) -> Result<Value, InterpError> {
        Ok(match v {
            Value::String(s) => {
                let pieces = parse(s).map_err(|error| InterpError::Template { template: s.clone(), error })?;
                match pieces.as_slice() {
                    [Piece::Var(name)] => self.lookup(name)?.clone(),
                    _ => Value::String(self.text(s)?),
                }
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(x)).collect::<Result<_, _>>()?),
            Value::Object(o) => {
                let mut m = serde_json::Map::new();
                for (k, x) in o {
                    m.insert(self.text(k)?, self.value(x)?);
                }
                Value::Object(m)
            }
            other => other.clone(),
        })
    }
}

/// A JSON value as request text: strings raw, everything else as compact JSON.
pub fn value_as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Flattens a nested map into dotted names: `{fixture: {client: {web: {id: X}}}}` gives
/// `fixture.client.web.id = X`. Keys that are already dotted stay as they are.
pub fn flatten(prefix: &str, v: &Value, out: &mut Vars) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&name, x, out);
            }
        }
        other => out.set(prefix.to_owned(), other.clone()),
    }
}

/// Computes the fixture aliases from the target's `/__admin/security-profiles` and `/__admin/users`
/// answers (docs/ADMIN.md shapes). An alias with nothing to name is left out, and a scenario using it fails
/// with a message saying so.
pub fn fixture_aliases(profiles: &Value, users: &Value) -> Vars {
    let mut v = Vars::new();
    let empty = Vec::new();
    let profiles = profiles.as_array().unwrap_or(&empty);
    let users = users.as_array().unwrap_or(&empty);
    let str_of = |x: &Value, k: &str| x.get(k).and_then(Value::as_str).map(str::to_owned);
    let mut set = |name: &str, value: Option<String>| {
        if let Some(s) = value {
            v.set(name.to_owned(), Value::String(s));
        }
    };
    let clients = |p: &Value| p.get("clients").and_then(Value::as_array).cloned().unwrap_or_default();
    let first_url = |c: &Value| {
        c.get("return_urls")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .map(str::to_owned)
    };

    let music = profiles.iter().find(|p| p.get("music_enabled") == Some(&Value::Bool(true)));
    let not_music = profiles.iter().find(|p| p.get("music_enabled") != Some(&Value::Bool(true)));
    if let Some(p) = music {
        set("fixture.profile.music.id", str_of(p, "security_profile_id"));
        set("fixture.profile.music.name", str_of(p, "name"));
        let cs = clients(p);
        let of_kind = |kind: &str| cs.iter().find(|c| c.get("kind").and_then(Value::as_str) == Some(kind));
        if let Some(c) = of_kind("web") {
            set("fixture.client.web.id", str_of(c, "client_id"));
            set("fixture.client.web.secret", str_of(c, "client_secret"));
            set("fixture.client.web.redirect_uri", first_url(c));
        }
        if let Some(c) = of_kind("public") {
            set("fixture.client.public.id", str_of(c, "client_id"));
            set("fixture.client.public.redirect_uri", first_url(c));
        }
        if let Some(c) = of_kind("device") {
            set("fixture.client.device.id", str_of(c, "client_id"));
        }
        let linked = cs.iter().find(|c| {
            c.get("kind").and_then(Value::as_str) == Some("web") && c.get("cbl_enabled") == Some(&Value::Bool(true))
        });
        if let Some(c) = linked {
            set("fixture.client.tv.id", str_of(c, "client_id"));
            set("fixture.client.tv.secret", str_of(c, "client_secret"));
            set("fixture.client.tv.redirect_uri", first_url(c));
        }
    }
    if let Some(p) = not_music {
        set("fixture.profile.not_music.id", str_of(p, "security_profile_id"));
        set("fixture.profile.not_music.name", str_of(p, "name"));
        if let Some(c) = clients(p).first() {
            set("fixture.client.not_music.id", str_of(c, "client_id"));
            set("fixture.client.not_music.secret", str_of(c, "client_secret"));
            set("fixture.client.not_music.redirect_uri", first_url(c));
        }
    }
    let app =
        profiles.iter().flat_map(clients).find(|c| c.get("client_credentials_allowed") == Some(&Value::Bool(true)));
    if let Some(c) = app {
        set("fixture.client.app.id", str_of(&c, "client_id"));
        set("fixture.client.app.secret", str_of(&c, "client_secret"));
    }

    let tier = |u: &&Value, t: &str| u.get("tier").and_then(Value::as_str) == Some(t);
    let picks: [(&str, Option<&Value>); 5] = [
        ("first", users.first()),
        ("unlimited", users.iter().find(|u| tier(u, "UNLIMITED"))),
        ("prime", users.iter().find(|u| tier(u, "PRIME"))),
        ("free", users.iter().find(|u| tier(u, "FREE"))),
        ("no_music", users.iter().find(|u| u.get("has_music_account") == Some(&Value::Bool(false)))),
    ];
    for (who, user) in picks {
        if let Some(u) = user {
            set(&format!("fixture.user.{who}.id"), str_of(u, "user_id"));
            for field in USER_FIELDS {
                set(&format!("fixture.user.{who}.{field}"), str_of(u, field));
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn vars() -> Vars {
        let mut v = Vars::new();
        v.set("token", json!("Atza|abc"));
        v.set("n", json!(3600));
        v.set("fixture.client.web.id", json!("amzn1.application-oa2-client.x"));
        v
    }

    #[test]
    fn text_interpolation_replaces_every_reference() {
        let v = vars();
        assert_eq!(v.text("Bearer {{token}}").unwrap(), "Bearer Atza|abc");
        assert_eq!(
            v.text("{{ n }}s and {{fixture.client.web.id}}").unwrap(),
            "3600s and amzn1.application-oa2-client.x"
        );
        assert_eq!(v.text("no refs at all").unwrap(), "no refs at all");
        assert_eq!(v.text(r"literal \{{token}}").unwrap(), "literal {{token}}");
    }

    #[test]
    fn a_lone_reference_keeps_the_json_type() {
        let v = vars();
        assert_eq!(v.value(&json!("{{n}}")).unwrap(), json!(3600));
        assert_eq!(v.value(&json!("n={{n}}")).unwrap(), json!("n=3600"));
        assert_eq!(v.value(&json!({"a": ["{{token}}", 1]})).unwrap(), json!({"a": ["Atza|abc", 1]}));
    }

    #[test]
    fn unknown_and_malformed_references_are_errors() {
        let v = vars();
        assert_eq!(v.text("{{nope}}").unwrap_err().to_string(), "{{nope}} has no value");
        assert!(v.text("{{fixture.client.zzz.id}}").unwrap_err().to_string().contains("not a fixture alias"));
        assert!(matches!(v.text("{{token"), Err(InterpError::Template { error: TemplateError::Unclosed, .. })));
        assert!(matches!(v.text("{{a b}}"), Err(InterpError::Template { error: TemplateError::BadName(_), .. })));
        assert!(matches!(v.text("{{}}"), Err(InterpError::Template { .. })));
    }

    #[test]
    fn references_lists_the_names_in_order() {
        assert_eq!(references("{{a}}-{{b.c}}").unwrap(), ["a", "b.c"]);
        assert!(references("plain").unwrap().is_empty());
    }

    #[test]
    fn fixture_aliases_pick_the_documented_entries() {
        let profiles = json!([
            {"security_profile_id": "P_SPEAKER", "name": "Speaker", "music_enabled": false,
             "clients": [{"client_id": "C_SPK", "client_secret": "S_SPK", "kind": "web", "return_urls": ["http://x/cb"]}]},
            {"security_profile_id": "P_MUSIC", "name": "Music", "music_enabled": true, "clients": [
                {"client_id": "C_PUB", "client_secret": null, "kind": "public", "return_urls": ["http://p/cb"]},
                {"client_id": "C_WEB", "client_secret": "S_WEB", "kind": "web", "return_urls": ["http://w/cb", "http://w2"]},
                {"client_id": "C_DEV", "client_secret": null, "kind": "device", "return_urls": []}]},
            {"security_profile_id": "P_SELLER", "name": "Seller", "music_enabled": false, "clients": [
                {"client_id": "C_APP", "client_secret": "S_APP", "kind": "web", "client_credentials_allowed": true}]}
        ]);
        let users = json!([
            {"user_id": "U1", "name": "Ava", "email": "a@x", "postal_code": "1", "tier": "UNLIMITED", "has_music_account": true},
            {"user_id": "U2", "name": "Chloe", "tier": "FREE", "has_music_account": true},
            {"user_id": "U3", "name": "Dan", "tier": null, "has_music_account": false}
        ]);
        let v = fixture_aliases(&profiles, &users);
        let get = |n: &str| v.get(n).and_then(Value::as_str);
        assert_eq!(get("fixture.profile.music.id"), Some("P_MUSIC"));
        assert_eq!(get("fixture.profile.not_music.id"), Some("P_SPEAKER"));
        assert_eq!(get("fixture.client.web.id"), Some("C_WEB"));
        assert_eq!(get("fixture.client.web.secret"), Some("S_WEB"));
        assert_eq!(get("fixture.client.web.redirect_uri"), Some("http://w/cb"));
        assert_eq!(get("fixture.client.public.id"), Some("C_PUB"));
        assert_eq!(get("fixture.client.device.id"), Some("C_DEV"));
        assert_eq!(get("fixture.client.not_music.secret"), Some("S_SPK"));
        assert_eq!(get("fixture.client.app.id"), Some("C_APP"));
        assert_eq!(get("fixture.user.first.id"), Some("U1"));
        assert_eq!(get("fixture.user.unlimited.email"), Some("a@x"));
        assert_eq!(get("fixture.user.free.id"), Some("U2"));
        assert_eq!(get("fixture.user.no_music.name"), Some("Dan"));
        // No PRIME user: the alias is missing, and using it says why.
        assert_eq!(get("fixture.user.prime.id"), None);
        assert!(v.text("{{fixture.user.prime.id}}").unwrap_err().to_string().contains("nothing that fits"));
    }

    #[test]
    fn every_documented_alias_is_known_and_others_are_not() {
        for (name, _) in FIXTURE_ALIASES {
            assert!(is_fixture_alias(name), "{name}");
        }
        assert!(is_fixture_alias("fixture.user.prime.postal_code"));
        assert!(!is_fixture_alias("fixture.user.prime.secret"));
        assert!(!is_fixture_alias("fixture.client.web.id.x"));
    }

    #[test]
    fn flatten_turns_nested_maps_into_dotted_names() {
        let mut v = Vars::new();
        flatten("", &json!({"fixture": {"client": {"web": {"id": "X"}}}, "plain": 1}), &mut v);
        assert_eq!(v.get("fixture.client.web.id"), Some(&json!("X")));
        assert_eq!(v.get("plain"), Some(&json!(1)));
    }
}
