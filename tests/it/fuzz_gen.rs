//! Well-formed-but-wrong requests for every route, shared by the CI fuzz (`tests/it/fuzz.rs`) and the long run
//! (`examples/fuzz_long.rs`, which includes this file by path).
//!
//! The route list is the code's own: [`routes`] reads the `.route("…", get(…).post(…))` calls of each family's
//! `router()` in `src/` (so a route added there is fuzzed, and one without a [`TEMPLATES`] entry fails the
//! drift test). Each route's [`TEMPLATES`] entry is a valid request (query and body, with placeholders such as
//! `{track}` filled from the catalog and the fuzz's own tokens); a [`Case`] (a proptest value) names a route
//! and the edits that make its request wrong: parameters dropped, replaced by junk of the wrong type, huge,
//! empty or badly encoded, extra parameters, bodies that are not JSON, wrong content types, path values that
//! are junk. [`check`] says whether an answer is acceptable: below 500, and a 4xx in its family's error shape.

#![allow(dead_code)]

use proptest::prelude::*;
use serde_json::{Value, json};

// ---- the route list --------------------------------------------------------------------------------------

/// The API family a route belongs to: where it is mounted and what its errors look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Lwa,
    V1,
    V2,
    Device,
    Admin,
    Stream,
}

/// One method on one route, as the router declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub family: Family,
    pub method: &'static str,
    /// The full path template, e.g. `/v1/tracks/{id}`.
    pub path: String,
}

/// Each family's router source and where it is mounted (`src/app.rs`).
const SOURCES: &[(Family, &str, &str)] = &[
    (Family::Lwa, "src/lwa/mod.rs", ""),
    (Family::V1, "src/v1/mod.rs", "/v1"),
    (Family::V2, "src/v2/mod.rs", "/v2"),
    (Family::Device, "src/device/mod.rs", "/device"),
    (Family::Admin, "src/admin/mod.rs", "/__admin"),
    (Family::Stream, "src/stream_http/mod.rs", ""),
];

/// Every (method, route) the routers declare, read from their source.
pub fn routes() -> Vec<Route> {
    let mut out = Vec::new();
    for (family, file, mount) in SOURCES {
        let src = std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).expect("router source");
        let start = src.find("pub fn router()").unwrap_or_else(|| panic!("no router() in {file}"));
        let body = &src[start..];
        let body = &body[..body.find("\n}\n").expect("end of router()")];
        for chunk in body.split(".route(").skip(1) {
            let q1 = chunk.find('"').expect("a path literal");
            let q2 = q1 + 1 + chunk[q1 + 1..].find('"').expect("its end");
            let path = &chunk[q1 + 1..q2];
            let full = if path == "/" { (*mount).to_owned() } else { format!("{mount}{path}") };
            for m in ["get", "post", "put", "patch", "delete"] {
                let called = chunk.match_indices(&format!("{m}(")).any(|(i, _)| {
                    i == 0 || !chunk.as_bytes()[i - 1].is_ascii_alphanumeric() && chunk.as_bytes()[i - 1] != b'_'
                });
                if called {
                    let method = match m {
                        "get" => "GET",
                        "post" => "POST",
                        "put" => "PUT",
                        "patch" => "PATCH",
                        _ => "DELETE",
                    };
                    out.push(Route { family: *family, method, path: full.clone() });
                }
            }
        }
    }
    out
}

/// A valid request per route: `(method, path, path values, query, body)`. Path values name, in order, what
/// each `{…}` of the path becomes (a placeholder below); the query is `a=b&c=d`; the body is JSON (`{` or
/// `[` first), a form (`form:a=b&c=d`) or empty; several bodies are separated by ` || ` (the token endpoint's
/// grants). Placeholders: `{track}`, `{album}`, `{artist}`, `{playlist}` (a catalog playlist), `{mine}` (the
/// fuzz user's playlist), `{show}`, `{episode}`, `{genre}`, `{session}` (a V1 playback session),
/// `{queue}` (a V2 queue), `{user}`, `{refresh}`, `{client}`, `{secret}`, `{device_client}`, `{public}`,
/// `{return}`, `{public_return}`, `{user_code}`, `{mrn}`, `{metric}`, `{code}`.
pub const TEMPLATES: &[(&str, &str, &str, &str, &str)] = &[
    // LWA
    (
        "POST",
        "/auth/o2/token",
        "",
        "",
        "form:grant_type=refresh_token&refresh_token={refresh}&client_id={client}&client_secret={secret} || form:grant_type=authorization_code&code={code}&redirect_uri={return}&client_id={client}&client_secret={secret} || form:grant_type=client_credentials&client_id={client}&client_secret={secret}&scope=profile || form:grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code={code}&user_code={user_code}",
    ),
    (
        "POST",
        "/auth/o2/create/codepair",
        "",
        "",
        "form:response_type=device_code&client_id={device_client}&scope=profile",
    ),
    ("GET", "/auth/o2/tokeninfo", "", "access_token={profile_token}", ""),
    ("GET", "/user/profile", "", "access_token={profile_token}", ""),
    ("GET", "/ap/user/profile", "", "access_token={profile_token}", ""),
    (
        "GET",
        "/ap/oa",
        "",
        "client_id={public}&scope=profile&response_type=code&redirect_uri={public_return}&state=s1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        "",
    ),
    (
        "POST",
        "/ap/oa",
        "",
        "",
        "form:client_id={public}&scope=profile&response_type=code&redirect_uri={public_return}&state=s1&user_id={user}&decision=allow",
    ),
    ("GET", "/us/code", "", "code={user_code}", ""),
    ("POST", "/us/code", "", "", "form:user_code={user_code}&user_id={user}&decision=allow"),
    // V1
    ("GET", "/v1/tracks", "", "ids={track},{track}", ""),
    ("GET", "/v1/tracks/{id}", "track", "mediaType=AUDIO", ""),
    ("GET", "/v1/albums", "", "ids={album},{album}", ""),
    ("GET", "/v1/albums/{id}", "album", "", ""),
    ("GET", "/v1/artists", "", "ids={artist}", ""),
    ("GET", "/v1/artists/{id}", "artist", "", ""),
    ("GET", "/v1/artists/{id}/albums", "artist", "limit=10&cursor=", ""),
    ("GET", "/v1/artists/{id}/tracks", "artist", "limit=10", ""),
    ("GET", "/v1/artists/{id}/related", "artist", "limit=10", ""),
    ("GET", "/v1/artists/{id}/followers", "artist", "limit=10", ""),
    ("GET", "/v1/podcasts/shows", "", "ids={show}", ""),
    ("GET", "/v1/podcasts/shows/{id}", "show", "limit=5&cursor=", ""),
    ("GET", "/v1/podcasts/episodes", "", "ids={episode}", ""),
    ("GET", "/v1/podcasts/episodes/{id}", "episode", "", ""),
    ("GET", "/v1/search", "", "query=love&limit=10", ""),
    (
        "POST",
        "/v1/search/{kind}",
        "v1kind",
        "",
        r#"{"searchFilters":[{"query":"love"}],"limit":10,"sortBy":"RELEVANCE"}"#,
    ),
    ("GET", "/v1/me", "", "", ""),
    ("PUT", "/v1/me", "", "", r#"{"name":"Fuzz","visibility":"PUBLIC","playbackVisibility":"PRIVATE"}"#),
    ("GET", "/v1/me/playlists", "", "limit=10", ""),
    ("GET", "/v1/me/library/tracks", "", "limit=10", ""),
    ("PUT", "/v1/me/library/tracks", "", "", r#"{"trackIds":["{track}"]}"#),
    ("DELETE", "/v1/me/library/tracks", "", "", r#"{"trackIds":["{track}"]}"#),
    ("GET", "/v1/me/library/albums", "", "limit=10", ""),
    ("PUT", "/v1/me/library/albums", "", "", r#"{"albumIds":["{album}"]}"#),
    ("DELETE", "/v1/me/library/albums", "", "", r#"{"albumIds":["{album}"]}"#),
    ("GET", "/v1/me/library/podcastEpisodes", "", "limit=10", ""),
    ("PUT", "/v1/me/library/podcastEpisodes", "", "", r#"{"episodeIds":["{episode}"]}"#),
    ("DELETE", "/v1/me/library/podcastEpisodes", "", "", r#"{"episodeIds":["{episode}"]}"#),
    ("GET", "/v1/me/tracks", "", "limit=10", ""),
    ("PUT", "/v1/me/tracks", "", "", r#"{"trackIds":["{track}"]}"#),
    ("DELETE", "/v1/me/tracks", "", "", r#"{"trackIds":["{track}"]}"#),
    ("GET", "/v1/me/followed/artists", "", "limit=10", ""),
    ("PUT", "/v1/me/followed/artists", "", "", r#"{"artistIds":["{artist}"]}"#),
    ("DELETE", "/v1/me/followed/artists", "", "", r#"{"artistIds":["{artist}"]}"#),
    ("PUT", "/v1/me/followed/artists/{id}", "artist", "", ""),
    ("DELETE", "/v1/me/followed/artists/{id}", "artist", "", ""),
    ("GET", "/v1/me/followed/playlists", "", "limit=10", ""),
    ("PUT", "/v1/me/followed/playlists", "", "", r#"{"playlistIds":["{playlist}"]}"#),
    ("DELETE", "/v1/me/followed/playlists", "", "", r#"{"playlistIds":["{playlist}"]}"#),
    ("PUT", "/v1/me/followed/playlists/{id}", "playlist", "", ""),
    ("DELETE", "/v1/me/followed/playlists/{id}", "playlist", "", ""),
    ("GET", "/v1/me/followed/podcastShows", "", "limit=10", ""),
    ("PUT", "/v1/me/followed/podcastShows", "", "", r#"{"showIds":["{show}"]}"#),
    ("DELETE", "/v1/me/followed/podcastShows", "", "", r#"{"showIds":["{show}"]}"#),
    ("GET", "/v1/me/recentlyPlayedEntities", "", "limit=10", ""),
    ("GET", "/v1/player/recentlyPlayed", "", "limit=10&cursor=", ""),
    ("POST", "/v1/playlists", "", "", r#"{"title":"Fuzz","description":"d","visibility":"PRIVATE"}"#),
    ("GET", "/v1/playlists/{id}", "mine", "", ""),
    ("PUT", "/v1/playlists/{id}", "mine", "", r#"{"title":"Fuzzed","description":"e","visibility":"PUBLIC"}"#),
    ("DELETE", "/v1/playlists/{id}", "victim", "", ""),
    ("GET", "/v1/playlists/{id}/tracks", "mine", "limit=10&cursor=", ""),
    ("PUT", "/v1/playlists/{id}/tracks", "mine", "", r#"{"trackIds":["{track}"],"addDuplicateTracks":false}"#),
    ("PATCH", "/v1/playlists/{id}/tracks", "mine", "", r#"{"entryIds":["e1"],"entryIdAbove":"e2"}"#),
    ("DELETE", "/v1/playlists/{id}/tracks", "mine", "", r#"{"entryIds":["e1"]}"#),
    ("GET", "/v1/views/{name}", "view", "limit=5&cursor=", ""),
    ("GET", "/v1/views/{name}/{id}", "artistview,artist", "limit=5", ""),
    (
        "POST",
        "/v1/playback/sessions",
        "",
        "limit=5",
        r#"{"playParams":{"id":"{mrn}"},"playbackOptions":{"loopMode":"LOOP_OFF","shuffleMode":"SHUFFLE_OFF"}}"#,
    ),
    ("GET", "/v1/playback/sessions/active", "", "", ""),
    ("GET", "/v1/playback/sessions/{id}/current", "session", "", ""),
    ("GET", "/v1/playback/sessions/{id}/next", "session", "limit=3", ""),
    ("POST", "/v1/playback/sessions/{id}/next", "session", "", r#"{"playParams":{"id":"{mrn}"}}"#),
    ("GET", "/v1/playback/sessions/{id}/previous", "session", "limit=3", ""),
    ("GET", "/v1/playback/sessions/{id}/queue", "session", "", ""),
    ("POST", "/v1/playback/sessions/{id}/last", "session", "", r#"{"playParams":{"id":"{mrn}"}}"#),
    ("PUT", "/v1/playback/sessions/{id}/loop", "session", "", r#"{"loopMode":"LOOP_ALL"}"#),
    ("PUT", "/v1/playback/sessions/{id}/shuffle", "session", "", r#"{"shuffleMode":"SHUFFLE_ON"}"#),
    ("POST", "/v1/playback/sessions/{id}/restore", "session", "limit=3", ""),
    (
        "POST",
        "/v1/playback/event",
        "",
        "",
        r#"{"metricId":"{metric}","event":{"type":"START","clientTimestampInMilliseconds":1700000000000}}"#,
    ),
    (
        "POST",
        "/v1/playback/events",
        "",
        "",
        r#"{"events":[{"metricId":"{metric}","event":{"type":"STOP","clientTimestampInMilliseconds":1700000000000,"durationInMilliseconds":1000}}]}"#,
    ),
    // V2
    ("GET", "/v2/albums", "", "ids={album},{album}", ""),
    ("GET", "/v2/albums/top", "", "first=5&after=", ""),
    ("GET", "/v2/albums/new-releases", "", "first=5", ""),
    ("GET", "/v2/tracks", "", "ids={track}&territory=US", ""),
    ("GET", "/v2/browse/tracks/top", "", "first=5", ""),
    ("GET", "/v2/playlists", "", "ids={playlist},{mine}", ""),
    (
        "POST",
        "/v2/playlists",
        "",
        "",
        r#"{"title":"Fuzz","description":"d","visibility":"PRIVATE","trackAsins":["{track}"]}"#,
    ),
    ("DELETE", "/v2/playlists/{id}", "victim", "", ""),
    ("GET", "/v2/playlists/{id}/tracks", "mine", "first=5&after=", ""),
    ("POST", "/v2/playlists/{id}/tracks", "mine", "", r#"{"trackIds":["{track}"]}"#),
    ("GET", "/v2/search", "", "query=love&limit=5&territory=US", ""),
    ("GET", "/v2/search/{kind}", "v2group", "query=love&first=5&after=", ""),
    ("POST", "/v2/search/{kind}", "v2kind", "", r#"{"query":"love","first":5,"territory":"US","sortBy":"RELEVANCE"}"#),
    ("GET", "/v2/me/playlists/owned", "", "first=5", ""),
    ("GET", "/v2/me/playlists/followed", "", "first=5", ""),
    ("GET", "/v2/me/tracks", "", "first=5", ""),
    ("GET", "/v2/me/tracks/liked", "", "first=5", ""),
    ("GET", "/v2/views/home", "", "first=5&after=", ""),
    ("GET", "/v2/views/home/{group_id}", "homegroup", "first=5", ""),
    ("GET", "/v2/playback/queues/active", "", "", ""),
    (
        "POST",
        "/v2/playback/queues/new",
        "",
        "",
        r#"{"playParams":{"id":"{mrn}"},"playbackOptions":{"loopMode":"LOOP_OFF"},"limit":5}"#,
    ),
    ("GET", "/v2/playback/queues/{id}/current", "queue", "", ""),
    ("GET", "/v2/playback/queues/{id}/next", "queue", "limit=3", ""),
    ("POST", "/v2/playback/queues/{id}/next", "queue", "", r#"{"playParams":{"id":"{mrn}"}}"#),
    ("GET", "/v2/playback/queues/{id}/previous", "queue", "limit=3", ""),
    ("GET", "/v2/playback/queues/{id}/view", "queue", "", ""),
    ("GET", "/v2/playback/queues/{id}/entities/{entity}", "queue,entity", "limit=3", ""),
    ("POST", "/v2/playback/queues/{id}/last", "queue", "", r#"{"playParams":{"id":"{mrn}"}}"#),
    ("PUT", "/v2/playback/queues/{id}/loop", "queue", "", r#"{"loopMode":"LOOP_ALL"}"#),
    ("PUT", "/v2/playback/queues/{id}/shuffle", "queue", "", r#"{"shuffleMode":"SHUFFLE_OFF"}"#),
    (
        "POST",
        "/v2/playback/events",
        "",
        "",
        r#"{"metricId":"{metric}","event":{"type":"START","clientTimestampInMilliseconds":1700000000000}}"#,
    ),
    (
        "POST",
        "/v2/playback/events/batch",
        "",
        "",
        r#"{"events":[{"metricId":"{metric}","event":{"type":"START","clientTimestampInMilliseconds":1700000000000}}]}"#,
    ),
    // Device API
    ("GET", "/device", "", "", ""),
    ("GET", "/device/nav/genre/{genre}", "genre", "", ""),
    ("GET", "/device/nav/artist/{id}", "artist", "", ""),
    ("GET", "/device/playlist/{id}", "playlist", "", ""),
    ("GET", "/device/album/{id}", "album", "", ""),
    ("GET", "/device/track/{id}", "track", "", ""),
    ("GET", "/device/station/{genre}", "genre", "chunk=1", ""),
    ("GET", "/device/search", "", "keywords=love&type=all&hasExplicit=true&count=10", ""),
    ("GET", "/device/flat_search", "", "keywords=love&hasExplicit=false&count=10", ""),
    ("GET", "/device/availability", "", "country=DE", ""),
    ("POST", "/device/events/{token}", "word", "", r#"{"eventType":"START","offsetInMilliseconds":0}"#),
    ("POST", "/device/rating/{track}", "track", "", r#"{"thumbRating":"up"}"#),
    // Admin (in its own session: these change its state)
    ("GET", "/__admin/health", "", "", ""),
    ("POST", "/__admin/reset", "", "", r#"{}"#),
    ("GET", "/__admin/clock", "", "", ""),
    ("POST", "/__admin/clock/freeze", "", "", r#"{}"#),
    ("POST", "/__admin/clock/unfreeze", "", "", r#"{}"#),
    ("POST", "/__admin/clock/set", "", "", r#"{"now":1800000000}"#),
    ("POST", "/__admin/clock/advance", "", "", r#"{"seconds":60}"#),
    ("GET", "/__admin/security-profiles", "", "", ""),
    ("GET", "/__admin/users", "", "", ""),
    ("POST", "/__admin/device/approve", "", "", r#"{"user_code":"{user_code}","user_id":"{user}"}"#),
    ("POST", "/__admin/device/deny", "", "", r#"{"user_code":"{user_code}"}"#),
    ("POST", "/__admin/device/expire", "", "", r#"{"user_code":"{user_code}"}"#),
    ("POST", "/__admin/grants/revoke", "", "", r#"{"user_id":"{user}","client_id":"{client}"}"#),
    ("POST", "/__admin/tokens/expire", "", "", r#"{"token":"{refresh}"}"#),
    ("GET", "/__admin/settings", "", "", ""),
    ("PUT", "/__admin/settings", "", "", r#"{"auto_consent":true,"search_limit_max":50}"#),
    ("GET", "/__admin/requests", "", "limit=10", ""),
    ("GET", "/__admin/sessions", "", "", ""),
    ("DELETE", "/__admin/session", "", "", ""),
    ("GET", "/__admin/users/{user_id}/library", "user", "", ""),
    ("GET", "/__admin/faults", "", "", ""),
    ("POST", "/__admin/faults", "", "", r#"{"route":"/v1/tracks/*","status":429,"code":"THROTTLED","count":1}"#),
    ("DELETE", "/__admin/faults", "", "", ""),
    ("GET", "/__admin/device/events", "", "", ""),
    ("GET", "/__admin/playback/sessions", "", "user={user}", ""),
    ("GET", "/__admin/playback/events", "", "user={user}", ""),
    ("GET", "/__admin/plan", "", "", ""),
    ("POST", "/__admin/plan", "", "", "{\"name\":\"fuzz\",\"steps\":[]}"),
    ("DELETE", "/__admin/plan", "", "", ""),
    ("GET", "/__admin/verdict", "", "format=json", ""),
    ("GET", "/__admin/ui", "", "", ""),
    ("GET", "/__admin/ui/live", "", "since=0", ""),
    ("POST", "/__admin/streams/sign", "", "", r#"{"asin":"{track}","qualities":["SD"],"ttl_seconds":60}"#),
    // Streams
    ("GET", "/stream/{asin}/{file}", "track,file", "exp=1800000000&sig=00", ""),
    ("GET", "/dash/{asin}/manifest.mpd", "track", "q=SD&exp=1800000000&sig=00", ""),
    ("GET", "/dash/{asin}/{quality}/{file}", "track,quality,segment", "q=SD&exp=1800000000&sig=00", ""),
    ("POST", "/license", "", "", "license-request"),
];

/// The family a template path belongs to.
pub fn family_of(path: &str) -> Family {
    let under = |p: &str| path == p || path.starts_with(&format!("{p}/"));
    if under("/v1") {
        Family::V1
    } else if under("/v2") {
        Family::V2
    } else if under("/device") {
        Family::Device
    } else if under("/__admin") {
        Family::Admin
    } else if under("/stream") || under("/dash") || under("/license") {
        Family::Stream
    } else {
        Family::Lwa
    }
}

// ---- the values a valid request is made of ---------------------------------------------------------------

/// Real values: ids from the catalog, the fuzz user's tokens and objects (made by the harness before fuzzing).
#[derive(Clone, Debug, Default)]
pub struct Values {
    pub tracks: Vec<String>,
    pub albums: Vec<String>,
    pub artists: Vec<String>,
    pub playlists: Vec<String>,
    pub shows: Vec<String>,
    pub episodes: Vec<String>,
    /// Playlists of the fuzz user (V1 and V2 write to them).
    pub mine: Vec<String>,
    pub sessions: Vec<String>,
    pub queues: Vec<String>,
    pub metric: String,
    /// An access token with every music scope (V1, V2).
    pub music_token: String,
    /// An access token with `amazon_music:access` (the Device API).
    pub device_token: String,
    /// An access token with `profile` (token info, profile).
    pub profile_token: String,
    /// A refresh token the fuzz may spend.
    pub refresh: String,
    pub user_code: String,
}

pub const USER: &str = "amzn1.account.I7GAS664VLDQ6HEZ7EDJJTFPH2OY";
pub const WEB_CLIENT: &str = "amzn1.application-oa2-client.71722f244f58d669cbee3772a0770217";
pub const WEB_SECRET: &str = "amzn1.oa2-cs.v1.5d05ad7853c1f76eb97706ca828bca0385813dbad3c681d06bd2aa399dac946d";
pub const WEB_RETURN: &str = "http://127.0.0.1:9090/cb";
pub const PUBLIC_CLIENT: &str = "amzn1.application-oa2-client.21a278f64f7fd633dbdde131ca3766e4";
pub const PUBLIC_RETURN: &str = "http://127.0.0.1:8765/callback";
pub const DEVICE_CLIENT: &str = "amzn1.application-oa2-client.d58e72e310275dff6c15c0c8e9df4696";
pub const MUSIC_PROFILE: &str = "amzn1.application.30877432d1026706d7e805da846a32c3";
pub const ALL_MUSIC: &str = "music::catalog music::library music::favorites music::history music::profile music::recommendation music::playback";
/// The session the admin routes are fuzzed in (they reset, move clocks and revoke grants).
pub const ADMIN_SESSION: &str = "/s/fuzz-admin";
const GENRES: &[&str] = &["rock", "pop", "jazz", "classical", "hip-hop"];
const VIEWS: &[&str] = &["home", "podcasts", "my-library", "recently-played"];
const VIEW_KINDS: &[&str] = &["artist", "album", "playlist", "podcast-show"];
const V1_KINDS: &[&str] = &["tracks", "albums", "artists", "playlists", "podcastShows", "podcastEpisodes"];
const V2_KINDS: &[&str] = &["tracks", "albums", "artists", "playlists"];
const V2_GROUPS: &[&str] = &["tracks", "albums", "artists", "playlists", "podcastShows", "podcastEpisodes", "topHits"];

impl Values {
    /// Catalog ids from the catalog every server builds by default (seed 1, the default size).
    pub fn from_catalog() -> Self {
        use amazon_music_mock::test_support::CatalogFile;
        let (file, spec) = CatalogFile::load(None).expect("embedded catalog.yaml");
        let c = spec.build(&file, 1, amazon_music_mock::DEFAULT_CATALOG_SIZE).expect("the catalog builds");
        let take = 40;
        Values {
            tracks: c.tracks().iter().take(take).map(|t| t.id.as_str().to_owned()).collect(),
            albums: c.albums().iter().take(take).map(|t| t.id.as_str().to_owned()).collect(),
            artists: c.artists().iter().take(take).map(|t| t.id.as_str().to_owned()).collect(),
            playlists: c.playlists().iter().take(take).map(|t| t.id.as_str().to_owned()).collect(),
            shows: c.podcast_shows().iter().take(take).map(|t| t.id.to_string()).collect(),
            episodes: c.podcast_episodes().iter().take(take).map(|t| t.id.to_string()).collect(),
            metric: "m-0".to_owned(),
            ..Values::default()
        }
    }

    fn pick(list: &[String], n: usize) -> &str {
        if list.is_empty() { "none" } else { &list[n % list.len()] }
    }

    /// The value of a placeholder (`track`, `mine` …), the `n`-th of its kind.
    fn value(&self, name: &str, n: usize) -> String {
        let pick = |l: &[&str]| l[n % l.len()].to_owned();
        match name {
            "track" | "asin" => Self::pick(&self.tracks, n).to_owned(),
            "album" => Self::pick(&self.albums, n).to_owned(),
            "artist" => Self::pick(&self.artists, n).to_owned(),
            "playlist" => Self::pick(&self.playlists, n).to_owned(),
            "show" => Self::pick(&self.shows, n).to_owned(),
            "episode" => Self::pick(&self.episodes, n).to_owned(),
            "mine" => Self::pick(&self.mine, n).to_owned(),
            // Deleting one of the fuzz's own playlists would turn later requests into 404s: deletes aim at
            // catalog playlists, which are not the caller's.
            "victim" => Self::pick(&self.playlists, n).to_owned(),
            "session" => Self::pick(&self.sessions, n).to_owned(),
            "queue" => Self::pick(&self.queues, n).to_owned(),
            "genre" => pick(GENRES),
            "view" => pick(VIEWS),
            "viewkind" => pick(VIEW_KINDS),
            "artistview" => "artist".to_owned(),
            "v1kind" => pick(V1_KINDS),
            "v2kind" => pick(V2_KINDS),
            "v2group" => pick(V2_GROUPS),
            "homegroup" => "home:newReleases".to_owned(),
            "entity" => format!("entity-{n}"),
            "word" => format!("tok{n}"),
            "file" => pick(&["sd.mp3", "hd.flac", "uhd.flac"]),
            "quality" => pick(&["sd", "hd", "uhd"]),
            "segment" => pick(&["init.mp4", "1.m4s", "2.m4s"]),
            "user" => USER.to_owned(),
            "refresh" => self.refresh.clone(),
            "profile_token" => self.profile_token.clone(),
            "client" => WEB_CLIENT.to_owned(),
            "secret" => WEB_SECRET.to_owned(),
            "device_client" => DEVICE_CLIENT.to_owned(),
            "public" => PUBLIC_CLIENT.to_owned(),
            "return" => WEB_RETURN.to_owned(),
            "public_return" => PUBLIC_RETURN.to_owned(),
            "user_code" => self.user_code.clone(),
            "code" => format!("ANcode{n}"),
            "mrn" => format!("mrn:1.0:catalog:album:asin:{}", Self::pick(&self.albums, n)),
            "metric" => self.metric.clone(),
            other => panic!("no placeholder {other}"),
        }
    }

    /// `text` with its `{placeholders}` filled.
    fn fill(&self, text: &str, n: usize) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find('{') {
            let Some(j) = rest[i..].find('}') else { break };
            let name = &rest[i + 1..i + j];
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                out.push_str(&rest[..=i]);
                rest = &rest[i + 1..];
                continue;
            }
            out.push_str(&rest[..i]);
            out.push_str(&self.value(name, n));
            rest = &rest[i + j + 1..];
        }
        out.push_str(rest);
        out
    }
}

// ---- cases -------------------------------------------------------------------------------------------------

/// A value that does not belong where it is put.
#[derive(Clone, Debug)]
pub enum Junk {
    Empty,
    /// A string of this many bytes.
    Huge(usize),
    Number(i64),
    Float,
    Bool(bool),
    Null,
    Array,
    Object,
    /// Percent-encoded bytes that are not UTF-8 (`%FF%FE`).
    BadUtf8,
    /// A `%` not followed by two hex digits.
    BadPercent,
    /// Control characters and quotes.
    Controls,
    /// Text from the generator.
    Text(String),
    /// Nested arrays this deep.
    Deep(usize),
}

/// An edit of a parameter list (query, form or JSON object).
#[derive(Clone, Debug)]
pub enum Edit {
    Drop(usize),
    Replace(usize, Junk),
    Extra(String, Junk),
    Repeat(usize),
}

/// How the body is spoiled.
#[derive(Clone, Debug)]
pub enum BodyPlan {
    /// The template's body with these edits.
    Edited(Vec<Edit>),
    /// The template's body (edited) under a wrong content type.
    WrongType(Vec<Edit>, &'static str),
    /// A body that is not what the route reads at all.
    Raw(Junk),
    /// No body.
    Missing,
    /// A body over the body limit (1 MiB by default).
    OverLimit,
}

/// The credentials sent.
#[derive(Clone, Debug)]
pub enum Auth {
    Valid,
    /// The token is fine but the family's second header (`x-api-key`, `X-Amzn-Device-Id`) is missing.
    NoFamilyHeader,
    Forged,
    Missing,
}

/// One fuzz case: a route, which of its template bodies, and how the request is made wrong.
#[derive(Clone, Debug)]
pub struct Case {
    pub route: usize,
    pub variant: usize,
    /// Junk in place of a path value (else valid values, the `n`-th of their kind).
    pub path_junk: Option<(usize, Junk)>,
    pub n: usize,
    pub query: Vec<Edit>,
    pub body: BodyPlan,
    pub auth: Auth,
}

fn junk() -> impl Strategy<Value = Junk> {
    prop_oneof![
        3 => Just(Junk::Empty),
        2 => prop_oneof![Just(300usize), Just(5_000), Just(70_000)].prop_map(Junk::Huge),
        3 => any::<i64>().prop_map(Junk::Number),
        1 => Just(Junk::Float),
        1 => any::<bool>().prop_map(Junk::Bool),
        1 => Just(Junk::Null),
        1 => Just(Junk::Array),
        1 => Just(Junk::Object),
        2 => Just(Junk::BadUtf8),
        2 => Just(Junk::BadPercent),
        1 => Just(Junk::Controls),
        3 => "[a-zA-Z0-9 ,:._|-]{0,24}".prop_map(Junk::Text),
        2 => "\\PC{0,12}".prop_map(Junk::Text),
        1 => prop_oneof![Just(64usize), Just(5_000)].prop_map(Junk::Deep),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        2 => (0..6usize).prop_map(Edit::Drop),
        5 => (0..6usize, junk()).prop_map(|(i, j)| Edit::Replace(i, j)),
        2 => ("[a-zA-Z_]{1,12}", junk()).prop_map(|(k, j)| Edit::Extra(k, j)),
        1 => (0..6usize).prop_map(Edit::Repeat),
    ]
}

fn body_plan() -> impl Strategy<Value = BodyPlan> {
    let types = prop_oneof![
        Just("text/plain"),
        Just("application/x-www-form-urlencoded"),
        Just("application/json; charset=latin1"),
        Just("multipart/form-data; boundary=x"),
    ];
    prop_oneof![
        12 => prop::collection::vec(edit(), 0..4).prop_map(BodyPlan::Edited),
        2 => (prop::collection::vec(edit(), 0..2), types).prop_map(|(e, t)| BodyPlan::WrongType(e, t)),
        3 => junk().prop_map(BodyPlan::Raw),
        1 => Just(BodyPlan::Missing),
    ]
}

/// Cases over `routes` (`over_limit_one_in`: how rare a body over the body limit is; 0 for never).
pub fn cases(routes: usize, over_limit_one_in: u32) -> impl Strategy<Value = Case> {
    let auth = prop_oneof![
        40 => Just(Auth::Valid),
        1 => Just(Auth::NoFamilyHeader),
        1 => Just(Auth::Forged),
        1 => Just(Auth::Missing),
    ];
    let path_junk = prop_oneof![16 => Just(None), 1 => (0..2usize, junk()).prop_map(Some)];
    (
        0..routes,
        0..4usize,
        path_junk,
        0..1000usize,
        prop::collection::vec(edit(), 0..4),
        body_plan(),
        auth,
        0..over_limit_one_in.max(1),
    )
        .prop_map(move |(route, variant, path_junk, n, query, body, auth, over)| {
            let body = if over_limit_one_in > 0 && over == 0 { BodyPlan::OverLimit } else { body };
            Case { route, variant, path_junk, n, query, body, auth }
        })
}

// ---- building requests ---------------------------------------------------------------------------------------

/// A request ready to send.
#[derive(Clone, Debug)]
pub struct Built {
    pub family: Family,
    /// The route's template path (for reports).
    pub route: String,
    pub method: &'static str,
    /// Path and query, from the root.
    pub target: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
}

fn junk_text(j: &Junk, query: bool) -> String {
    match j {
        Junk::Empty => String::new(),
        // A URI is at most 64 KiB (hyper's limit, the client's too): huge query values stop at 8 KiB.
        Junk::Huge(n) => "x".repeat(if query { (*n).min(8192) } else { *n }),
        Junk::Number(n) => n.to_string(),
        Junk::Float => "1e309".to_owned(),
        Junk::Bool(b) => b.to_string(),
        Junk::Null => "null".to_owned(),
        Junk::Array => "[1,2]".to_owned(),
        Junk::Object => "{\"a\":1}".to_owned(),
        Junk::BadUtf8 => {
            if query {
                "%FF%FE".to_owned()
            } else {
                "\u{FFFD}".to_owned()
            }
        }
        Junk::BadPercent => "%zz%".to_owned(),
        Junk::Controls => "\u{0}\u{1}\"'\\\n".to_owned(),
        Junk::Text(t) => t.clone(),
        Junk::Deep(n) => {
            let n = if query { (*n).min(500) } else { *n };
            format!("{}{}", "[".repeat(n), "]".repeat(n))
        }
    }
}

fn junk_json(j: &Junk) -> Value {
    match j {
        Junk::Empty => json!(""),
        Junk::Huge(n) => json!("x".repeat(*n)),
        Junk::Number(n) => json!(n),
        Junk::Float => json!(1.5e300),
        Junk::Bool(b) => json!(b),
        Junk::Null => Value::Null,
        Junk::Array => json!([1, "two", null]),
        Junk::Object => json!({"nested": {"deeper": [1]}}),
        Junk::BadUtf8 => json!("\u{FFFD}\u{FFFE}"),
        Junk::BadPercent => json!("%zz%"),
        Junk::Controls => json!("\u{0}\u{1}\"'\\\n"),
        Junk::Text(t) => json!(t),
        Junk::Deep(n) => {
            let n = (*n).min(100); // serde_json's own recursion limit is 128
            serde_json::from_str(&format!("{}{}", "[".repeat(n), "]".repeat(n))).expect("nested arrays")
        }
    }
}

/// Raw body bytes for a [`Junk`] body: bad UTF-8 is real bytes here.
fn junk_bytes(j: &Junk) -> Vec<u8> {
    match j {
        Junk::BadUtf8 => vec![0xFF, 0xFE, b'{', 0xC3, 0x28],
        other => junk_text(other, false).into_bytes(),
    }
}

/// Percent-encodes what a query value must not carry raw (the junk's own `%` sequences stay).
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'%' | b',' | b':' | b'|' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn edit_pairs(pairs: &mut Vec<(String, String)>, edits: &[Edit], query: bool) {
    for e in edits {
        match e {
            Edit::Drop(i) if !pairs.is_empty() => {
                let i = i % pairs.len();
                pairs.remove(i);
            }
            Edit::Replace(i, j) if !pairs.is_empty() => {
                let i = i % pairs.len();
                pairs[i].1 = junk_text(j, query);
            }
            Edit::Repeat(i) if !pairs.is_empty() => {
                let p = pairs[i % pairs.len()].clone();
                pairs.push(p);
            }
            Edit::Extra(k, j) => pairs.push((k.clone(), junk_text(j, query))),
            _ => {}
        }
    }
}

fn edit_json(v: &mut Value, edits: &[Edit]) {
    for e in edits {
        let Value::Object(map) = v else {
            // An array or scalar body: replace the whole with junk.
            if let Edit::Replace(_, j) = e {
                *v = junk_json(j);
            }
            continue;
        };
        let keys: Vec<String> = map.keys().cloned().collect();
        match e {
            Edit::Drop(i) if !keys.is_empty() => {
                map.remove(&keys[i % keys.len()]);
            }
            Edit::Replace(i, j) if !keys.is_empty() => {
                let k = &keys[i % keys.len()];
                // Inside the field's value when it is an array or object: a wrong element is wronger.
                match map.get_mut(k) {
                    Some(Value::Array(a)) if !a.is_empty() && i % 2 == 0 => a[0] = junk_json(j),
                    Some(Value::Object(o)) if !o.is_empty() && i % 2 == 0 => {
                        let inner = o.keys().next().cloned().expect("a key");
                        o.insert(inner, junk_json(j));
                    }
                    Some(slot) => *slot = junk_json(j),
                    None => {}
                }
            }
            Edit::Repeat(i) if !keys.is_empty() => {
                let k = &keys[i % keys.len()];
                let dup = map[k].clone();
                map.insert(format!("{k}s"), dup);
            }
            Edit::Extra(k, j) => {
                map.insert(k.clone(), junk_json(j));
            }
            _ => {}
        }
    }
}

fn parse_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn join_pairs(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// The request a case makes of `routes[case.route]`.
pub fn build(routes: &[Route], values: &Values, case: &Case) -> Built {
    let route = &routes[case.route];
    let (_, _, args, query, bodies) = TEMPLATES
        .iter()
        .find(|t| t.0 == route.method && t.1 == route.path)
        .unwrap_or_else(|| panic!("no template for {} {}", route.method, route.path));
    let n = case.n;
    // The path: each {…} its value, or junk.
    let names: Vec<&str> = args.split(',').filter(|a| !a.is_empty()).collect();
    let mut path = String::new();
    let mut rest = route.path.as_str();
    let mut k = 0;
    while let Some(i) = rest.find('{') {
        let j = i + rest[i..].find('}').expect("closing brace");
        path.push_str(&rest[..i]);
        let v = match &case.path_junk {
            Some((which, junk)) if which % names.len().max(1) == k => {
                let t = junk_text(junk, true);
                if t.is_empty() { "%20".to_owned() } else { enc(&t) }
            }
            _ => enc(&values.value(names[k], n)),
        };
        path.push_str(&v);
        k += 1;
        rest = &rest[j + 1..];
    }
    path.push_str(rest);
    let prefix = if route.family == Family::Admin { ADMIN_SESSION } else { "" };
    let mut pairs = parse_pairs(&values.fill(query, n));
    edit_pairs(&mut pairs, &case.query, true);
    let q = join_pairs(&pairs);
    let target = if q.is_empty() { format!("{prefix}{path}") } else { format!("{prefix}{path}?{q}") };

    let mut headers: Vec<(&'static str, String)> = Vec::new();
    let token = match route.family {
        Family::V1 | Family::V2 => Some(&values.music_token),
        Family::Device => Some(&values.device_token),
        _ => None,
    };
    if let Some(t) = token {
        match case.auth {
            Auth::Valid | Auth::NoFamilyHeader => headers.push(("authorization", format!("Bearer {t}"))),
            Auth::Forged => headers.push(("authorization", format!("Bearer {}x", &t[..t.len() - 1]))),
            Auth::Missing => {}
        }
        if !matches!(case.auth, Auth::NoFamilyHeader) {
            match route.family {
                Family::V1 => {
                    headers.push(("x-api-key", MUSIC_PROFILE.to_owned()));
                    headers.push(("x-amzn-device-id", "fuzz-device".to_owned()));
                }
                Family::V2 => headers.push(("x-amzn-device-id", "fuzz-device".to_owned())),
                _ => {}
            }
        }
    }

    let variants: Vec<&str> = bodies.split(" || ").filter(|b| !b.is_empty()).collect();
    let body = if variants.is_empty() && matches!(case.body, BodyPlan::Edited(_) | BodyPlan::Missing) {
        None
    } else {
        let template = variants.get(case.variant % variants.len().max(1)).map(|b| values.fill(b, n));
        let (bytes, ctype): (Vec<u8>, String) = match (&case.body, template.as_deref()) {
            (BodyPlan::Missing, _) => (Vec::new(), String::new()),
            (BodyPlan::OverLimit, _) => (vec![b'a'; 1024 * 1024 + 10], "application/json".to_owned()),
            (BodyPlan::Raw(j), _) => (junk_bytes(j), "application/json".to_owned()),
            (BodyPlan::Edited(e) | BodyPlan::WrongType(e, _), t) => {
                let wrong = if let BodyPlan::WrongType(_, t) = &case.body { Some(*t) } else { None };
                match t {
                    Some(t) if t.starts_with("form:") => {
                        let mut pairs = parse_pairs(&t["form:".len()..]);
                        edit_pairs(&mut pairs, e, false);
                        let ct = wrong.unwrap_or("application/x-www-form-urlencoded");
                        (join_pairs(&pairs).into_bytes(), ct.to_owned())
                    }
                    Some(t) if t.starts_with('{') || t.starts_with('[') => {
                        let mut v: Value = serde_json::from_str(t).expect("template JSON");
                        edit_json(&mut v, e);
                        (v.to_string().into_bytes(), wrong.unwrap_or("application/json").to_owned())
                    }
                    Some(t) => (t.as_bytes().to_vec(), wrong.unwrap_or("application/octet-stream").to_owned()),
                    None => (b"{}".to_vec(), wrong.unwrap_or("application/json").to_owned()),
                }
            }
        };
        if !ctype.is_empty() {
            headers.push(("content-type", ctype));
        }
        Some(bytes)
    };
    Built { family: route.family, route: route.path.clone(), method: route.method, target, headers, body }
}

// ---- checking answers --------------------------------------------------------------------------------------

/// Whether an answer reached a handler: the router's own 404 (`No such resource`) and 405s did not.
pub fn reached_handler(status: u16, body: &str) -> bool {
    status != 405 && !(status == 404 && body.contains("No such resource"))
}

/// Checks an answer: below 500, and a 4xx in its family's error shape. `Err` says what is wrong.
pub fn check(b: &Built, status: u16, content_type: Option<&str>, body: &[u8]) -> Result<(), String> {
    if status >= 500 {
        return Err(format!("{status}"));
    }
    if status < 400 {
        return Ok(());
    }
    let html = content_type.is_some_and(|c| c.starts_with("text/html"));
    let pages = ["/ap/oa", "/us/code", "/__admin/ui"];
    if matches!(b.family, Family::Lwa | Family::Admin) && pages.contains(&b.route.as_str()) && html {
        return Ok(()); // the browser routes' error pages (the dashboard's: no such session)
    }
    if b.family == Family::Stream && b.method == "GET" && status == 416 {
        return Ok(());
    }
    let json_type = content_type.is_some_and(|c| c.starts_with("application/json"));
    if !json_type {
        return Err(format!("{status} with content type {content_type:?}"));
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("{status}: body is not JSON ({e})"))?;
    let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    let s = |v: &Value| v.is_string();
    let ok = match b.family {
        Family::Lwa => keys(&v) == ["error_description", "error"] && s(&v["error"]) && s(&v["error_description"]),
        Family::V1 => {
            let e = &v["error"];
            let k = keys(e);
            keys(&v) == ["error"]
                && (k == ["status", "code", "message", "reference"]
                    || k == ["status", "code", "message", "url", "reference"])
                && e["status"] == json!(status.to_string())
                && s(&e["code"])
                && s(&e["message"])
        }
        Family::V2 => {
            keys(&v) == ["error"]
                && keys(&v["error"]) == ["code", "message", "traceId"]
                && s(&v["error"]["code"])
                && s(&v["error"]["message"])
        }
        Family::Device => {
            let r = &v["generalErrorReports"]["error"];
            keys(&v) == ["result", "generalErrorReports"]
                && v["result"] == "#error"
                && keys(r) == ["terse", "brief", "explanation"]
                && s(&r["terse"])
                && s(&r["brief"])
                && s(&r["explanation"])
        }
        Family::Admin => v.get("error").is_some_and(Value::is_string),
        Family::Stream => keys(&v) == ["error", "message"] && s(&v["error"]) && s(&v["message"]),
    };
    if ok { Ok(()) } else { Err(format!("{status}: not the {:?} error shape: {v}", b.family)) }
}

// ---- setting up over HTTP ------------------------------------------------------------------------------------

/// Sends a built request.
pub async fn send(http: &reqwest::Client, base: &str, b: &Built) -> Result<(u16, Option<String>, Vec<u8>), String> {
    let method = reqwest::Method::from_bytes(b.method.as_bytes()).expect("method");
    let mut req = http.request(method, format!("{base}{}", b.target));
    for (k, v) in &b.headers {
        req = req.header(*k, v);
    }
    if let Some(body) = &b.body {
        req = req.body(body.clone());
    }
    let r = req.send().await.map_err(|e| {
        // The whole chain (hyper's reason is in a source), and the headers sent, to tell a reset from a refusal.
        let e = e.without_url();
        let mut why = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            why.push_str(&format!(": {s}"));
            source = s.source();
        }
        let names: Vec<&str> = b.headers.iter().map(|(k, _)| *k).collect();
        format!("no answer: {why} (headers {names:?})")
    })?;
    let status = r.status().as_u16();
    let ctype = r.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = r.bytes().await.map_err(|e| format!("body: {e}"))?.to_vec();
    Ok((status, ctype, body))
}

async fn json_call(http: &reqwest::Client, req: reqwest::RequestBuilder) -> Value {
    let _ = http;
    let r = req.send().await.expect("setup request sent");
    let status = r.status();
    let text = r.text().await.expect("setup body");
    assert!(status.is_success(), "setup call: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Tokens through the device flow (code pair, admin approval, poll) for `scope`, in `prefix`'s session.
pub async fn device_tokens(http: &reqwest::Client, base: &str, prefix: &str, scope: &str) -> Value {
    let form = [("response_type", "device_code"), ("client_id", DEVICE_CLIENT), ("scope", scope)];
    let pair = json_call(http, http.post(format!("{base}{prefix}/auth/o2/create/codepair")).form(&form)).await;
    let code = pair["user_code"].as_str().expect("user_code").to_owned();
    let approve = json!({"user_code": code, "user_id": USER});
    json_call(http, http.post(format!("{base}{prefix}/__admin/device/approve")).json(&approve)).await;
    let poll = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("device_code", pair["device_code"].as_str().expect("device_code")),
    ];
    json_call(http, http.post(format!("{base}{prefix}/auth/o2/token")).form(&poll)).await
}

/// Everything the fuzz needs that the server makes: tokens, the user's playlists, playback sessions and
/// queues, an open code pair.
pub async fn prepare(http: &reqwest::Client, base: &str) -> Values {
    let mut v = Values::from_catalog();
    let music = device_tokens(http, base, "", ALL_MUSIC).await;
    v.music_token = music["access_token"].as_str().expect("access_token").to_owned();
    let device = device_tokens(http, base, "", "amazon_music:access").await;
    v.device_token = device["access_token"].as_str().expect("access_token").to_owned();
    let profile = device_tokens(http, base, "", "profile").await;
    v.profile_token = profile["access_token"].as_str().expect("access_token").to_owned();
    v.refresh = profile["refresh_token"].as_str().expect("refresh_token").to_owned();
    let form = [("response_type", "device_code"), ("client_id", DEVICE_CLIENT), ("scope", "profile")];
    let pair = json_call(http, http.post(format!("{base}/auth/o2/create/codepair")).form(&form)).await;
    v.user_code = pair["user_code"].as_str().expect("user_code").to_owned();
    let auth = |r: reqwest::RequestBuilder| {
        r.bearer_auth(&v.music_token).header("x-api-key", MUSIC_PROFILE).header("x-amzn-device-id", "fuzz-device")
    };
    for i in 0..3 {
        let body = json!({"title": format!("fuzz {i}"), "description": "fuzz", "visibility": "PRIVATE"});
        let r = json_call(http, auth(http.post(format!("{base}/v1/playlists"))).json(&body)).await;
        let id = r["data"]["createPlaylist"]["id"].as_str().unwrap_or_else(|| panic!("playlist id in {r}"));
        v.mine.push(id.to_owned());
    }
    let play = json!({"playParams": {"id": format!("mrn:1.0:catalog:album:asin:{}", v.albums[0])}});
    let r = json_call(http, auth(http.post(format!("{base}/v1/playback/sessions"))).json(&play)).await;
    v.sessions.push(r["data"]["sessionId"].as_str().unwrap_or_else(|| panic!("sessionId in {r}")).to_owned());
    if let Some(m) = r["data"]["entities"][0]["metricId"].as_str() {
        v.metric = m.to_owned();
    }
    let r = json_call(http, auth(http.post(format!("{base}/v2/playback/queues/new"))).json(&play)).await;
    v.queues.push(r["id"].as_str().unwrap_or_else(|| panic!("queue id in {r}")).to_owned());
    v
}
