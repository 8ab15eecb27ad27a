//! The admin API's guard: who may reach `/__admin` (and `/s/{session}/__admin`) at all. The outer layer
//! (`app.rs`) runs [`admit`] on every admin request before the session is looked up or the router sees it;
//! the checks, in order, each refused in JSON with a reason (`docs/ADMIN.md` "Who may call it"):
//!
//! 1. **Host** (DNS rebinding): bound to a loopback address, only loopback names, the Amazon names the mock
//!    answers as (`tls::HOSTS`, which no web page can point elsewhere) and `--public-url`'s host are served
//!    (403). Bound elsewhere, any name is: the admin token is the guard there.
//! 2. **Cross-site**: a request that changes state (any method but GET, HEAD and OPTIONS) is refused when its
//!    `Origin` is not this server or its `Sec-Fetch-Site` is neither `same-origin` nor `none` (403): browsers
//!    send one or the other with every such request a page makes.
//! 3. **Token**: with `--admin-token`, `Authorization: Bearer <token>` (401 without it or with another), except on
//!    `GET /__admin/health` (probes and the container's healthcheck) and `POST /__admin/login`. The dashboard
//!    (`GET /__admin/ui`, `/ui/live`) also takes the cookie `POST /__admin/login` sets: without either, the
//!    dashboard answers a page that asks for the token once ([`login_page`]).
//! 4. **JSON**: a request that changes state must be JSON (`application/json`, `+json`; YAML for the plan),
//!    have no body at all, or carry `X-AMM-Admin` or `Authorization` (415): what a web page can send without
//!    the browser asking first (a CORS preflight, which this server never grants) is none of these.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body::Body as _;
use serde::Deserialize;
use serde_json::json;

use super::{AdminJson, err};
use crate::context::{AdminAccess, host_name};

/// The custom header that marks a script's admin request as not a web page's (any value).
pub const ADMIN_HEADER: &str = "x-amm-admin";

/// The dashboard's cookie, set by `POST /__admin/login`: the admin token.
pub const COOKIE: &str = "amm_admin_token";

/// The `WWW-Authenticate` challenge of a request without the token.
const CHALLENGE: &str = "Bearer realm=\"amazon-music-mock admin\"";

/// Lets an admin request through (`Ok`, unchanged) or answers it (`Err`): a refusal, or the answer to
/// `POST /__admin/login` or the dashboard's token page. `path` is the canonical path (from `/__admin`),
/// `prefix` the session's (`""` or `/s/{name}`).
///
/// # Errors
/// The answer, when the guard gives it instead of the router (module doc).
pub async fn admit(access: &AdminAccess, req: Request, path: &str, prefix: &str) -> Result<Request, Response> {
    let host = request_host(&req);
    if let (Some(allowed), Some(h)) = (&access.hosts, &host) {
        if !host_allowed(allowed, h) {
            return Err(err(
                StatusCode::FORBIDDEN,
                format!(
                    "the admin API does not answer to Host {h:?}: bound to a loopback address, it answers only to \
                     localhost, 127.0.0.1, [::1], the Amazon host names and --public-url's host (against DNS \
                     rebinding); use one of those, or name this host with --public-url"
                ),
            ));
        }
    }
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let Some(refused) = changes_state.then(|| cross_site(req.headers(), host.as_deref())).flatten() {
        return Err(refused);
    }
    if path == LOGIN {
        return Err(login(access, req, prefix).await);
    }
    if let Some(token) = &access.token {
        let dashboard = matches!(*req.method(), Method::GET | Method::HEAD) && DASHBOARD.contains(&path);
        let open = path == HEALTH && matches!(*req.method(), Method::GET | Method::HEAD);
        if !open {
            match bearer(req.headers()) {
                Some(given) if same(given, token) => {}
                Some(_) => return Err(refused_token(WRONG_TOKEN)),
                None if dashboard && cookie(req.headers()).is_some_and(|c| same(c, token)) => {}
                None if dashboard && path == DASHBOARD[0] => return Err(login_page(prefix)),
                None => return Err(refused_token(NO_TOKEN)),
            }
        }
    }
    if let Some(refused) = changes_state.then(|| not_a_simple_request(&req)).flatten() {
        return Err(refused);
    }
    Ok(req)
}

/// `GET /__admin/health`: open to probes whatever the token.
const HEALTH: &str = "/__admin/health";

/// `POST /__admin/login`: the dashboard's token, turned into a cookie.
const LOGIN: &str = "/__admin/login";

/// The dashboard's routes, which also take the cookie; the page first.
const DASHBOARD: &[&str] = &["/__admin/ui", "/__admin/ui/live"];

const NO_TOKEN: &str = "this admin API needs its token: send Authorization: Bearer <token>, the value of \
                        --admin-token (AMM_ADMIN_TOKEN) the server was started with";

const WRONG_TOKEN: &str = "wrong admin token: send Authorization: Bearer <token> with the value of \
                           --admin-token (AMM_ADMIN_TOKEN) the server was started with";

/// The request's host: its `Host` header, or its URI's authority (HTTP/2); `None` without either (not a
/// browser's request).
fn request_host(req: &Request) -> Option<String> {
    req.headers()
        .get(header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .or_else(|| req.uri().authority().map(|a| a.as_str().to_owned()))
}

/// Whether `host` (a `Host` value) is a loopback name or one of `allowed` (host names, lower case).
pub fn host_allowed(allowed: &[String], host: &str) -> bool {
    let name = host_name(host);
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    name == "localhost"
        || name.ends_with(".localhost")
        || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        || allowed.iter().any(|a| *a == name || a.trim_start_matches('[').trim_end_matches(']') == bare)
}

/// The refusal of a request a page on another origin made (module doc, 2).
fn cross_site(headers: &HeaderMap, host: Option<&str>) -> Option<Response> {
    const WHY: &str = "the admin API takes requests from scripts and from its own pages, not from other web pages";
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = String::from_utf8_lossy(site.as_bytes()).to_ascii_lowercase();
        if site != "same-origin" && site != "none" {
            return Some(err(
                StatusCode::FORBIDDEN,
                format!("cross-site admin request refused: Sec-Fetch-Site is {site:?}; {WHY}"),
            ));
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = String::from_utf8_lossy(origin.as_bytes()).into_owned();
        if !host.is_some_and(|h| same_origin(&origin, h)) {
            let this = host.map_or_else(|| "this server".to_owned(), |h| format!("this server ({h})"));
            return Some(err(
                StatusCode::FORBIDDEN,
                format!("cross-site admin request refused: Origin {origin:?} is not {this}; {WHY}"),
            ));
        }
    }
    None
}

/// Whether an `Origin` (`scheme://host[:port]`, or `null`) names the server a request with `Host: host` was
/// sent to: the same host name and the same port (a missing port being the scheme's default).
pub fn same_origin(origin: &str, host: &str) -> bool {
    let Some((scheme, authority)) = origin.trim().split_once("://") else {
        return false;
    };
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    // The port as `host_name` finds it: digits after the last colon, outside an IPv6 literal's brackets.
    let port = |authority: &str| -> String {
        match authority.rsplit_once(':') {
            Some((name, port))
                if !port.is_empty()
                    && port.bytes().all(|b| b.is_ascii_digit())
                    && (!name.contains(':') || name.ends_with(']')) =>
            {
                port.trim_start_matches('0').to_owned()
            }
            _ => default.to_owned(),
        }
    };
    host_name(authority) == host_name(host) && port(authority) == port(host)
}

/// The refusal of a state-changing request that a web page could have sent without a preflight (module doc,
/// 4).
fn not_a_simple_request(req: &Request) -> Option<Response> {
    let h = req.headers();
    if h.contains_key(ADMIN_HEADER) || h.contains_key(header::AUTHORIZATION) {
        return None;
    }
    let got = match h.get(header::CONTENT_TYPE) {
        Some(ct) => {
            let ct = String::from_utf8_lossy(ct.as_bytes()).into_owned();
            if is_json_or_yaml(&ct) {
                return None;
            }
            format!("got Content-Type {ct:?}")
        }
        None if req.body().is_end_stream() => return None,
        None => "got a body without a Content-Type".to_owned(),
    };
    Some(err(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!(
            "an admin request that changes state must be JSON: send Content-Type: application/json (the plan may \
             be application/yaml), or the header X-AMM-Admin: 1; {got}"
        ),
    ))
}

/// Whether a `Content-Type` is JSON (`application/json`, `application/…+json`) or YAML.
fn is_json_or_yaml(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
        || matches!(essence.as_str(), "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml")
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case); `Some("")` for another scheme, so
/// that it counts as a wrong token rather than none.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().unwrap_or("").trim();
    Some(match v.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => "",
    })
}

/// The dashboard cookie's value.
fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(name, value)| (name == COOKIE).then_some(value))
}

/// Compares a given token with the server's in a time that does not depend on where they differ.
fn same(given: &str, token: &str) -> bool {
    let (a, b) = (given.as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A missing or wrong token: 401, the challenge, `{"error": message}`.
fn refused_token(message: &str) -> Response {
    let mut resp = err(StatusCode::UNAUTHORIZED, message);
    resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE));
    resp
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    token: String,
}

/// `POST /__admin/login` with `{"token": "…"}`: the right token gets `{"logged_in": true}` and the dashboard's
/// cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over TLS, for the browser's session).
async fn login(access: &AdminAccess, req: Request, prefix: &str) -> Response {
    if req.method() != Method::POST {
        let mut resp =
            err(StatusCode::METHOD_NOT_ALLOWED, format!("method {} is not allowed on this admin route", req.method()));
        resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return resp;
    }
    if let Some(refused) = not_a_simple_request(&req) {
        return refused;
    }
    let Some(token) = &access.token else {
        return err(
            StatusCode::NOT_FOUND,
            "this server has no admin token (--admin-token): its admin API is open, there is nothing to log in to",
        );
    };
    let AdminJson(body) = match <AdminJson<Login> as axum::extract::FromRequest<()>>::from_request(req, &()).await {
        Ok(b) => b,
        Err(refused) => return refused,
    };
    if !same(&body.token, token) {
        return err(
            StatusCode::FORBIDDEN,
            "wrong admin token: give the value of --admin-token (AMM_ADMIN_TOKEN) the server was started with",
        );
    }
    let secure = crate::stream::request_origin().is_some_and(|o| o.scheme == "https");
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{}", if secure { "; Secure" } else { "" });
    let mut resp = axum::Json(json!({"logged_in": true, "dashboard": format!("{prefix}/__admin/ui")})).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// The dashboard without the token: 401, a page that asks for it, posts it to `POST /__admin/login` and
/// loads the dashboard again (the cookie then stands in for the token).
fn login_page(prefix: &str) -> Response {
    let login = format!("{prefix}/__admin/login");
    let script = format!(
        "document.getElementById('login').addEventListener('submit', async (e) => {{\n\
         e.preventDefault();\n\
         const out = document.getElementById('error');\n\
         const r = await fetch({login:?}, {{method: 'POST', headers: {{'Content-Type': 'application/json'}},\n\
         body: JSON.stringify({{token: document.getElementById('token').value}})}});\n\
         if (r.ok) {{ location.reload(); }} else {{ out.textContent = (await r.json()).error; }}\n\
         }});"
    );
    let page = maud::html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Admin token needed" }
            }
            body {
                h1 { "Admin token needed" }
                p { "This mock was started with " code { "--admin-token" } ". Give that token once to see the dashboard." }
                form id="login" {
                    label { "Admin token " input type="password" id="token" autocomplete="current-password" autofocus; }
                    " "
                    button type="submit" { "Open the dashboard" }
                }
                p id="error" role="alert" {}
                script { (maud::PreEscaped(script)) }
            }
        }
    };
    let mut resp = (StatusCode::UNAUTHORIZED, axum::response::Html(page.into_string())).into_response();
    let h = resp.headers_mut();
    h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
        ),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_amazon_names_and_the_public_url_host_are_served() {
        let allowed = vec!["api.amazon.com".to_owned(), "mock.test".to_owned(), "::1".to_owned()];
        for ok in [
            "localhost",
            "LOCALHOST:8080",
            "app.localhost",
            "127.0.0.1:8080",
            "127.9.9.9",
            "[::1]:8080",
            "api.amazon.com:8443",
            "mock.test.",
        ] {
            assert!(host_allowed(&allowed, ok), "{ok}");
        }
        for refused in ["evil.example", "localhost.evil.example", "10.0.0.1:8080", "0.0.0.0", "mock.test.evil"] {
            assert!(!host_allowed(&allowed, refused), "{refused}");
        }
    }

    #[test]
    fn an_origin_is_the_server_with_the_same_host_name_and_port() {
        assert!(same_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(same_origin("http://LOCALHOST", "localhost:80"));
        assert!(same_origin("https://localhost", "localhost"));
        assert!(same_origin("http://[::1]:8080", "[::1]:8080"));
        assert!(same_origin("http://localhost.:8080", "localhost:8080"));
        assert!(!same_origin("http://[::1]", "[::1]:8080"));
        assert!(!same_origin("http://127.0.0.1:3000", "127.0.0.1:8080"));
        assert!(!same_origin("https://evil.example", "127.0.0.1:8080"));
        assert!(!same_origin("null", "127.0.0.1:8080"));
        assert!(!same_origin("file://", "127.0.0.1"));
    }

    #[test]
    fn json_and_yaml_content_types_are_not_a_page_s() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
            "application/yaml",
            "text/yaml",
        ] {
            assert!(is_json_or_yaml(ok), "{ok}");
        }
        for refused in
            ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/json", ""]
        {
            assert!(!is_json_or_yaml(refused), "{refused}");
        }
    }

    #[test]
    fn tokens_are_compared_whole() {
        assert!(same("s3cret", "s3cret"));
        assert!(!same("s3cre", "s3cret"));
        assert!(!same("s3creT", "s3cret"));
        assert!(!same("", "s3cret"));
    }
}
