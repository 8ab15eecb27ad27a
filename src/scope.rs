//! LWA scopes: the grammar, the known-scope registry, the supersede rule and scope satisfaction.
//!
//! Two families of scope strings exist (spec `lwa.md` §3.1, `music-api.md` §2.3):
//! - structured scopes `<service>::<category>[:read]`, such as `music::library:read` or
//!   `alexa::ask:skills:readwrite`;
//! - LWA's plain scopes, such as `profile`, `profile:user_id`, `postal_code`, `alexa:all`,
//!   `amazon_music:access`.
//!
//! **Supersede rule** (`music-api.md` §11.1): a scope `X` covers `X:read`. A granted set is normalised by
//! dropping every `X:read` whose `X` is also present, and is kept sorted, so normalisation is idempotent and
//! insensitive to the order the client asked in.

use std::collections::BTreeSet;
use std::fmt;

/// One syntactically valid scope string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);

impl TryFrom<String> for Scope {
    type Error = InvalidScope;
    fn try_from(s: String) -> Result<Self, InvalidScope> {
        Scope::parse(&s)
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> String {
        s.0
    }
}

/// Why a scope string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid scope {0:?}")]
pub struct InvalidScope(pub String);

impl Scope {
    /// Parses one scope token.
    ///
    /// Structured scopes need a lowercase service name, `::` and a non-empty category; plain scopes are
    /// letters, digits, `_`, `.`, `-` and single `:` separators.
    ///
    /// # Errors
    /// [`InvalidScope`] when the token breaks the grammar.
    pub fn parse(s: &str) -> Result<Self, InvalidScope> {
        let bad = || InvalidScope(s.to_owned());
        let word_ok =
            |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if s.is_empty() || s.len() > 256 {
            return Err(bad());
        }
        match s.split_once("::") {
            Some((service, category)) => {
                if !word_ok(service) || category.split(':').any(|w| !word_ok(w)) {
                    return Err(bad());
                }
            }
            None => {
                if s.split(':').any(|w| !word_ok(w)) {
                    return Err(bad());
                }
            }
        }
        Ok(Scope(s.to_owned()))
    }

    /// The scope string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For a structured `X:read` scope, the scope `X` that supersedes it.
    pub fn superseded_by(&self) -> Option<&str> {
        if !self.0.contains("::") {
            return None;
        }
        self.0.strip_suffix(":read").filter(|base| base.contains("::") && !base.ends_with(':'))
    }

    /// Whether this is an Amazon Music Web API scope (`music::…`), which needs a music-enabled profile.
    pub fn is_music(&self) -> bool {
        self.0.starts_with("music::")
    }

    /// Whether holding `self` gives what `required` asks for.
    pub fn covers(&self, required: &Scope) -> bool {
        self == required || required.superseded_by() == Some(self.as_str())
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A normalised set of scopes: sorted, de-duplicated, with superseded `:read` scopes removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(BTreeSet<Scope>);

/// Written as the scope parameter is: space-separated (a state file keeps it so).
impl serde::Serialize for ScopeSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Read back through [`ScopeSet::parse`].
impl<'de> serde::Deserialize<'de> for ScopeSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ScopeSet::parse(&s).map_err(|e| serde::de::Error::custom(format!("scope {s:?}: {e}")))
    }
}

impl ScopeSet {
    /// Builds a normalised set from scopes in any order.
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Self {
        let all: BTreeSet<Scope> = scopes.into_iter().collect();
        let kept = all
            .iter()
            .filter(|s| s.superseded_by().is_none_or(|base| !all.iter().any(|o| o.as_str() == base)))
            .cloned()
            .collect();
        ScopeSet(kept)
    }

    /// Parses a space-separated scope parameter (several spaces, tabs and `+`-decoded spaces included).
    ///
    /// # Errors
    /// The first token that breaks the grammar.
    pub fn parse(param: &str) -> Result<Self, InvalidScope> {
        let scopes = param.split_ascii_whitespace().map(Scope::parse).collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(scopes))
    }

    /// Whether the set holds no scope.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes in normalised order.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    /// Whether the set contains this exact scope string.
    pub fn contains_str(&self, s: &str) -> bool {
        self.0.iter().any(|x| x.as_str() == s)
    }

    /// Whether a token granted these scopes may call something that requires `required`.
    pub fn satisfies(&self, required: &Scope) -> bool {
        self.0.iter().any(|g| g.covers(required))
    }

    /// Whether any of `alternatives` is satisfied (routes such as `PUT /v1/me` accept either of two scopes).
    pub fn satisfies_any(&self, alternatives: &[Scope]) -> bool {
        alternatives.iter().any(|r| self.satisfies(r))
    }

    /// The union of two sets, normalised.
    pub fn union(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet::new(self.0.iter().chain(other.0.iter()).cloned())
    }
}

impl fmt::Display for ScopeSet {
    /// Space-separated, as LWA echoes scopes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(s.as_str())?;
        }
        Ok(())
    }
}

/// A scope the mock knows, with the description the consent page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownScope {
    /// The scope string.
    pub name: &'static str,
    /// What the user is asked to allow.
    pub description: &'static str,
}

/// Every scope the mock knows by name (`lwa.md` §3, §4.3, §14; `music-api.md` §2.3).
pub const KNOWN_SCOPES: &[KnownScope] = &[
    KnownScope { name: "profile", description: "Your name, email address and Amazon account ID" },
    KnownScope { name: "profile:user_id", description: "Your Amazon account ID" },
    KnownScope { name: "postal_code", description: "The postal code of your default shipping address" },
    KnownScope { name: "alexa:all", description: "Alexa Voice Service on this device" },
    KnownScope { name: "alexa:skill_messaging", description: "Send messages to Alexa skills" },
    KnownScope { name: "alexa::proactive_events", description: "Send proactive events to Alexa" },
    KnownScope { name: "amazon_music:access", description: "Amazon Music on this device (browse and play)" },
    KnownScope { name: "dash:replenish", description: "Dash Replenishment" },
    KnownScope { name: "messaging:push", description: "Amazon Device Messaging" },
    KnownScope { name: "music::catalog", description: "Search and read the Amazon Music catalog" },
    KnownScope { name: "music::library", description: "Read and change your music library and playlists" },
    KnownScope { name: "music::library:read", description: "Read your music library and playlists" },
    KnownScope {
        name: "music::favorites",
        description: "Read and change the artists, playlists and tracks you follow or like",
    },
    KnownScope {
        name: "music::favorites:read",
        description: "Read the artists, playlists and tracks you follow or like",
    },
    KnownScope { name: "music::history", description: "Your listening history" },
    KnownScope { name: "music::playback", description: "Play music and discover playback devices" },
    KnownScope { name: "music::profile", description: "Read and change your Amazon Music profile and settings" },
    KnownScope { name: "music::profile:read", description: "Read your Amazon Music profile and settings" },
    KnownScope { name: "music::recommendation", description: "Personalised recommendations" },
    KnownScope { name: "alexa::ask:skills:readwrite", description: "Create and change your Alexa skills" },
    KnownScope {
        name: "alexa::ask:models:readwrite",
        description: "Create and change your skills' interaction models",
    },
    KnownScope { name: "alexa::ask:skills:test", description: "Test your Alexa skills" },
    KnownScope { name: "alexa::ask:catalogs:read", description: "Read your skill catalogs" },
    KnownScope { name: "alexa::ask:catalogs:readwrite", description: "Create and change your skill catalogs" },
    KnownScope { name: "alexa::ask:subscriptions", description: "Manage your skill subscriptions" },
    KnownScope { name: "alexa::ask:skills:debug", description: "Debug your Alexa skills" },
    KnownScope { name: "sellingpartnerapi::notifications", description: "Selling Partner API notifications" },
    KnownScope { name: "sellingpartnerapi::migration", description: "Selling Partner API migration" },
    KnownScope {
        name: "sellingpartnerapi::client_credential:rotation",
        description: "Rotate Selling Partner API client secrets",
    },
    KnownScope { name: "advertising::campaign_management", description: "Manage your advertising campaigns" },
    KnownScope { name: "appstore::apps:readwrite", description: "Submit and change Appstore apps" },
    KnownScope { name: "creatorsapi::default", description: "Amazon Creators API" },
];

/// Looks a scope up in the registry.
pub fn known(name: &str) -> Option<&'static KnownScope> {
    KNOWN_SCOPES.iter().find(|k| k.name == name)
}

/// The consent page's description of a scope, with a fallback for scopes a fixture added.
pub fn describe(scope: &Scope) -> &'static str {
    known(scope.as_str()).map_or("Access defined by this security profile", |k| k.description)
}

#[cfg(test)]
mod tests;
