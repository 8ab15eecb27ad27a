//! Security profiles, clients and customers: the fixture model, its embedded defaults and the loader.
//!
//! The files under `fixtures/` are compiled in, so `serve` needs no files; `--fixtures DIR` replaces each
//! file that exists in `DIR`. Everything is validated when loaded (id formats, client kinds against their
//! secrets, unique ids, absolute return URLs, scope grammar), and a problem is reported with its file and
//! location (line and column where the YAML parser knows them), never with a panic.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ids::{ClientId, ClientSecret, SecurityProfileId, UserId};
use crate::scope::Scope;

const EMBEDDED_PROFILES: &str = include_str!("../fixtures/security-profiles.yaml");
const EMBEDDED_USERS: &str = include_str!("../fixtures/users.yaml");
const EMBEDDED_CATALOG: &str = include_str!("../fixtures/catalog.yaml");

/// `catalog.yaml`: entities added to (or replacing) the generated catalog.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogFile {
    /// Keep the generated catalog (`true`, the default) or serve only this file's entities.
    #[serde(default = "yes")]
    pub generate: bool,
    /// Artists to add.
    #[serde(default)]
    pub artists: Vec<crate::catalog::ArtistSpec>,
    /// Albums to add.
    #[serde(default)]
    pub albums: Vec<crate::catalog::AlbumSpec>,
    /// Tracks to add.
    #[serde(default)]
    pub tracks: Vec<crate::catalog::TrackSpec>,
    /// Curated playlists to add.
    #[serde(default)]
    pub playlists: Vec<crate::catalog::PlaylistSpec>,
}

impl CatalogFile {
    /// Builds the catalog: generated (`tracks` tracks from `seed`) unless the file says otherwise, then the
    /// file's entities added.
    ///
    /// # Errors
    /// A [`FixtureError`] naming `file` and the entity at fault.
    pub fn build(self, file: &str, seed: u64, tracks: usize) -> Result<crate::catalog::Catalog, FixtureError> {
        let ext = crate::catalog::CatalogExtension {
            artists: self.artists,
            albums: self.albums,
            tracks: self.tracks,
            playlists: self.playlists,
        };
        let tracks = if self.generate { tracks } else { 0 };
        crate::catalog::Catalog::generate_extended(seed, tracks, ext).map_err(|e| FixtureError {
            file: file.to_owned(),
            line: None,
            column: None,
            message: e.to_string(),
        })
    }

    /// Reads `DIR/catalog.yaml`, or the embedded one when `dir` is `None` or has no such file.
    ///
    /// # Errors
    /// The file cannot be read or parsed (with line and column).
    pub fn load(dir: Option<&Path>) -> Result<(String, CatalogFile), FixtureError> {
        let path = dir.map(|d| d.join("catalog.yaml")).filter(|p| p.exists());
        let (file, text) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(&p).map_err(|e| FixtureError {
                    file: p.display().to_string(),
                    line: None,
                    column: None,
                    message: e.to_string(),
                })?;
                (p.display().to_string(), text)
            }
            None => ("<embedded>/catalog.yaml".to_owned(), EMBEDDED_CATALOG.to_owned()),
        };
        let parsed = parse_yaml(&file, &text)?;
        Ok((file, parsed))
    }
}

/// The kind of an LWA client, which decides how it authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    /// A confidential web client with a secret.
    Web,
    /// A public client that proves itself with PKCE.
    Public,
    /// A code-based-linking (CBL) device client.
    Device,
}

/// An LWA client registered in a security profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    /// `amzn1.application-oa2-client.…`
    pub client_id: ClientId,
    /// The secret; `null` for public and device clients.
    pub client_secret: Option<ClientSecret>,
    /// How the client authenticates.
    pub kind: ClientKind,
    /// The Allowed Return URLs checked at `/ap/oa`.
    #[serde(default)]
    pub return_urls: Vec<String>,
    /// Whether a token request without a secret still gets a refresh token (`lwa.md` §2, §13.2).
    #[serde(default = "yes")]
    pub public_refresh_tokens: bool,
    /// Whether the client may use code-based linking.
    #[serde(default)]
    pub cbl_enabled: bool,
    /// Whether `grant_type=client_credentials` works for the client (`lwa.md` §13.6).
    #[serde(default)]
    pub client_credentials_allowed: bool,
}

fn yes() -> bool {
    true
}

/// A security profile: the unit Amazon Music enables, with its scope allow-list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityProfile {
    /// `amzn1.application.…`, the Music API's `x-api-key`.
    pub security_profile_id: SecurityProfileId,
    /// Display name, shown on the consent page.
    pub name: String,
    /// Whether Amazon Music enabled the profile for the Music API.
    pub music_enabled: bool,
    /// What a request without `scope` is granted (music-enabled profiles only).
    #[serde(default)]
    pub default_scope: Option<Scope>,
    /// The scopes the profile may request. A scope here also allows its `:read` scope.
    pub allowed_scopes: Vec<Scope>,
    /// Allowed JavaScript origins (informational).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// The profile's clients.
    pub clients: Vec<Client>,
}

impl SecurityProfile {
    /// Whether the profile's allow-list admits `scope`: listed itself or through the scope that supersedes
    /// it, and, for `music::` scopes, only on a music-enabled profile.
    pub fn allows(&self, scope: &Scope) -> bool {
        if scope.is_music() && !self.music_enabled {
            return false;
        }
        self.allowed_scopes.iter().any(|a| a.covers(scope))
    }
}

/// An Amazon Music subscription tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Tier {
    /// Ad-supported, shuffle-only.
    Free,
    /// Prime Music.
    Prime,
    /// Amazon Music Unlimited.
    Unlimited,
}

/// A fixture customer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// `amzn1.account.…`
    pub user_id: UserId,
    /// Full name, as `/user/profile` returns it.
    pub name: String,
    /// Primary email.
    pub email: String,
    /// Postal code of the default address.
    pub postal_code: String,
    /// Music subscription tier; `null` without a music account.
    pub tier: Option<Tier>,
    /// Whether the customer has an Amazon Music account at all.
    pub has_music_account: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfilesFile {
    security_profiles: Vec<SecurityProfile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersFile {
    users: Vec<User>,
}

/// A fixture file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FixtureError {
    /// The file, as given (or `<embedded>/name` for a compiled-in default).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<u64>,
    /// 1-based column, when known.
    pub column: Option<u64>,
    /// What is wrong, and where in the document when no line is known.
    pub message: String,
}

impl fmt::Display for FixtureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// All fixtures, indexed for lookups on the request path.
#[derive(Debug, Clone)]
pub struct Fixtures {
    /// Tells these fixtures apart from any other loaded in this process ([`Fixtures::id`]).
    id: u64,
    profiles: Vec<SecurityProfile>,
    users: Vec<User>,
    clients: HashMap<String, (usize, usize)>,
    profile_index: HashMap<String, usize>,
    user_index: HashMap<String, usize>,
}

fn parse_yaml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, FixtureError> {
    serde_saphyr::from_str(text).map_err(|e| {
        let loc = e.location();
        let message = e.to_string();
        FixtureError { file: file.to_owned(), line: loc.map(|l| l.line()), column: loc.map(|l| l.column()), message }
    })
}

impl Fixtures {
    /// The compiled-in defaults.
    ///
    /// # Panics
    /// Never in a released build: a test checks that the embedded files are valid.
    pub fn embedded() -> Self {
        Self::from_sources(
            ("<embedded>/security-profiles.yaml", EMBEDDED_PROFILES),
            ("<embedded>/users.yaml", EMBEDDED_USERS),
        )
        .expect("the embedded fixtures are valid")
    }

    /// Loads `security-profiles.yaml` and `users.yaml` from `dir`; each missing file falls back to the embedded one.
    ///
    /// # Errors
    /// The first problem found, with file and location.
    pub fn load_dir(dir: &Path) -> Result<Self, FixtureError> {
        if !dir.is_dir() {
            return Err(FixtureError {
                file: dir.display().to_string(),
                line: None,
                column: None,
                message: "not a directory".into(),
            });
        }
        let read = |name: &str, embedded: &'static str| -> Result<(String, String), FixtureError> {
            let path: PathBuf = dir.join(name);
            if path.exists() {
                let text = std::fs::read_to_string(&path).map_err(|e| FixtureError {
                    file: path.display().to_string(),
                    line: None,
                    column: None,
                    message: e.to_string(),
                })?;
                Ok((path.display().to_string(), text))
            } else {
                Ok((format!("<embedded>/{name}"), embedded.to_owned()))
            }
        };
        let (pf, pt) = read("security-profiles.yaml", EMBEDDED_PROFILES)?;
        let (uf, ut) = read("users.yaml", EMBEDDED_USERS)?;
        Self::from_sources((&pf, &pt), (&uf, &ut))
    }

    /// Parses and validates fixture texts; `(file name, text)` for profiles and users.
    ///
    /// # Errors
    /// The first problem found, with file and location.
    pub fn from_sources(profiles: (&str, &str), users: (&str, &str)) -> Result<Self, FixtureError> {
        let pfile: ProfilesFile = parse_yaml(profiles.0, profiles.1)?;
        let ufile: UsersFile = parse_yaml(users.0, users.1)?;
        let at =
            |file: &str, message: String| FixtureError { file: file.to_owned(), line: None, column: None, message };

        let mut clients = HashMap::new();
        let mut profile_index = HashMap::new();
        for (pi, p) in pfile.security_profiles.iter().enumerate() {
            let here = format!("security_profiles[{pi}] ({})", p.security_profile_id);
            if profile_index.insert(p.security_profile_id.as_str().to_owned(), pi).is_some() {
                return Err(at(profiles.0, format!("{here}: duplicate security_profile_id")));
            }
            if let Some(d) = &p.default_scope {
                if !p.music_enabled {
                    return Err(at(profiles.0, format!("{here}: default_scope is only for music-enabled profiles")));
                }
                if !p.allows(d) {
                    return Err(at(profiles.0, format!("{here}: default_scope {d} is not in allowed_scopes")));
                }
            }
            if !p.music_enabled {
                if let Some(s) = p.allowed_scopes.iter().find(|s| s.is_music()) {
                    return Err(at(profiles.0, format!("{here}: {s} needs music_enabled: true")));
                }
            }
            for (ci, c) in p.clients.iter().enumerate() {
                let here = format!("{here}.clients[{ci}] ({})", c.client_id);
                if clients.insert(c.client_id.as_str().to_owned(), (pi, ci)).is_some() {
                    return Err(at(profiles.0, format!("{here}: duplicate client_id")));
                }
                match (c.kind, c.client_secret.is_some()) {
                    (ClientKind::Web, false) => {
                        return Err(at(profiles.0, format!("{here}: a web client needs a client_secret")));
                    }
                    (ClientKind::Public | ClientKind::Device, true) => {
                        return Err(at(
                            profiles.0,
                            format!("{here}: public and device clients have client_secret: null"),
                        ));
                    }
                    _ => {}
                }
                for u in &c.return_urls {
                    match url::Url::parse(u) {
                        Ok(parsed) if parsed.fragment().is_none() => {}
                        _ => {
                            return Err(at(
                                profiles.0,
                                format!("{here}: return URL {u:?} must be an absolute URL without a fragment"),
                            ));
                        }
                    }
                }
            }
        }
        let mut user_index = HashMap::new();
        for (ui, u) in ufile.users.iter().enumerate() {
            let here = format!("users[{ui}] ({})", u.user_id);
            if user_index.insert(u.user_id.as_str().to_owned(), ui).is_some() {
                return Err(at(users.0, format!("{here}: duplicate user_id")));
            }
            if u.has_music_account != u.tier.is_some() {
                return Err(at(users.0, format!("{here}: tier must be set exactly when has_music_account is true")));
            }
        }
        if ufile.users.is_empty() {
            return Err(at(users.0, "at least one user is needed (auto-consent signs in as the first)".into()));
        }
        static LOADED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let id = LOADED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Fixtures { id, profiles: pfile.security_profiles, users: ufile.users, clients, profile_index, user_index })
    }

    /// Every security profile, in file order.
    pub fn profiles(&self) -> &[SecurityProfile] {
        &self.profiles
    }

    /// Every customer, in file order.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// A client and the profile it belongs to.
    pub fn client(&self, client_id: &str) -> Option<(&SecurityProfile, &Client)> {
        let &(p, c) = self.clients.get(client_id)?;
        Some((&self.profiles[p], &self.profiles[p].clients[c]))
    }

    /// A security profile by id.
    pub fn profile(&self, id: &str) -> Option<&SecurityProfile> {
        self.profile_index.get(id).map(|&i| &self.profiles[i])
    }

    /// A customer by id.
    pub fn user(&self, user_id: &str) -> Option<&User> {
        self.user_index.get(user_id).map(|&i| &self.users[i])
    }

    /// The customer auto-consent and a bare device approval sign in as.
    pub fn first_user(&self) -> &User {
        &self.users[0]
    }

    /// Whether `value` is the secret of a fixture client (the journal recognises a legacy 64-hex secret by
    /// its value, where its shape alone could be anything).
    /// A number no other fixtures loaded by this process have: what is remembered of one server's fixtures
    /// (the journal's judgements of headers, `journal::header_view`) is never taken for another's.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn knows_secret(&self, value: &str) -> bool {
        self.profiles
            .iter()
            .flat_map(|p| &p.clients)
            .any(|c| c.client_secret.as_ref().is_some_and(|s| s.matches(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_fixtures_are_valid_and_cover_the_required_cases() {
        let f = Fixtures::embedded();
        let kinds: Vec<_> = f.profiles().iter().flat_map(|p| p.clients.iter().map(|c| c.kind)).collect();
        for k in [ClientKind::Web, ClientKind::Public, ClientKind::Device] {
            assert!(kinds.contains(&k), "{k:?} client missing");
        }
        let not_music = f.profiles().iter().find(|p| !p.music_enabled).expect("a profile not enabled for music");
        let c = &not_music.clients[0];
        assert!(c.cbl_enabled && !c.return_urls.is_empty());
        let tiers: Vec<_> = f.users().iter().map(|u| u.tier).collect();
        for t in [Some(Tier::Free), Some(Tier::Prime), Some(Tier::Unlimited), None] {
            assert!(tiers.contains(&t), "{t:?} user missing");
        }
    }

    #[test]
    fn music_scopes_need_a_music_enabled_profile() {
        let f = Fixtures::embedded();
        let read = Scope::parse("music::library:read").unwrap();
        let music = f.profiles().iter().find(|p| p.music_enabled).unwrap();
        let speaker = f.profiles().iter().find(|p| !p.music_enabled).unwrap();
        assert!(music.allows(&read));
        assert!(!speaker.allows(&read));
        assert!(speaker.allows(&Scope::parse("alexa:all").unwrap()));
    }

    #[test]
    fn a_malformed_file_names_file_line_and_column() {
        let bad = "users:\n  - user_id: amzn1.account.nope\n    name: X\n";
        let err = Fixtures::from_sources(("<embedded>/security-profiles.yaml", EMBEDDED_PROFILES), ("users.yaml", bad))
            .unwrap_err();
        assert_eq!(err.file, "users.yaml");
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.message.contains("amzn1.account."), "{err}");
    }

    #[test]
    fn broken_yaml_is_an_error_not_a_panic() {
        let err =
            Fixtures::from_sources(("p.yaml", "security_profiles: [\n  {"), ("u.yaml", EMBEDDED_USERS)).unwrap_err();
        assert_eq!(err.file, "p.yaml");
        assert!(err.line.is_some(), "{err}");
    }
}
