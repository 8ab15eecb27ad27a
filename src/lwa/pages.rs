//! The HTML the mock shows a person: the sign-in and consent page of `/ap/oa`, LWA's "400 Bad Request"
//! error page, and the code-based-linking verification page. Plain server-rendered HTML (`maud`, which
//! escapes every value) with forms that work without JavaScript.

use maud::{DOCTYPE, Markup, html};

use crate::fixtures::User;
use crate::scope::{ScopeSet, describe};

const STYLE: &str = "body{font-family:Arial,sans-serif;max-width:46em;margin:2em auto;color:#111}\
h1{font-size:1.4em}.box{border:1px solid #ddd;border-radius:8px;padding:1em 1.5em;margin:1em 0}\
.err{border-color:#c40000}.err h2{color:#c40000}button{padding:.5em 1.5em;margin-right:1em;border-radius:4px;\
border:1px solid #a88734;background:#f0c14b;cursor:pointer}button.deny{background:#eee;border-color:#aaa}\
li{margin:.3em 0}code{background:#f4f4f4;padding:0 .2em}.mock{color:#777;font-size:.85em}\
table{width:100%;border-collapse:collapse}td{padding:.2em .6em;vertical-align:top}td:first-child{width:8em}\
td code{overflow-wrap:anywhere}";

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (maud::PreEscaped(STYLE)) }
            }
            body {
                (body)
                p.mock { "amazon-music-mock: an offline stand-in for Login with Amazon. No real account is used." }
            }
        }
    }
}

/// LWA's own error page: "Error Summary / 400 Bad Request / <message> / Request Details" (`lwa.md` §3.3).
pub fn error_page(message: &str, details: &[(&str, Option<&str>)]) -> Markup {
    layout(
        "400 Bad Request",
        html! {
            div.box.err {
                h1 { "Error Summary" }
                h2 { "400 Bad Request" }
                p id="message" { (message) }
            }
            div.box {
                h1 { "Request Details" }
                table {
                    @for (k, v) in details {
                        tr { td { (k) } td { @if let Some(v) = v { code { (v) } } } }
                    }
                }
            }
        },
    )
}

/// What the consent page shows and re-posts.
pub struct ConsentView<'a> {
    /// Where the form posts (`{session prefix}/ap/oa`).
    pub action: String,
    /// The application's name (its security profile).
    pub app_name: &'a str,
    /// The scopes asked for, with descriptions; may include scopes that will be refused.
    pub scopes: Vec<(String, &'static str)>,
    /// Customers to sign in as.
    pub users: &'a [User],
    /// Every original request parameter, re-posted as hidden fields.
    pub hidden: &'a [(String, String)],
}

/// Builds the scope list of a consent view from a parsed set (or from raw words when unparseable).
pub fn scope_lines(set: Option<&ScopeSet>, raw: Option<&str>) -> Vec<(String, &'static str)> {
    match set {
        Some(s) => s.iter().map(|sc| (sc.to_string(), describe(sc))).collect(),
        None => raw
            .unwrap_or("")
            .split_ascii_whitespace()
            .map(|w| (w.to_owned(), crate::scope::known(w).map_or("Unknown scope", |k| k.description)))
            .collect(),
    }
}

/// The sign-in and consent page of `/ap/oa`.
pub fn consent_page(v: &ConsentView<'_>) -> Markup {
    layout(
        "Amazon Sign-In",
        html! {
            h1 { "Sign in with Amazon" }
            form method="post" action=(v.action) {
                @for (k, val) in v.hidden {
                    input type="hidden" name=(k) value=(val);
                }
                div.box {
                    p { "Sign in as:" }
                    @for (i, u) in v.users.iter().enumerate() {
                        div {
                            label {
                                input type="radio" name="user_id" value=(u.user_id.as_str()) checked[i == 0];
                                " " (u.name) " (" (u.email) ")"
                            }
                        }
                    }
                }
                div.box {
                    p { strong { (v.app_name) } " would like to access:" }
                    ul id="scopes" {
                        @for (name, desc) in &v.scopes {
                            li { (desc) " " code { (name) } }
                        }
                    }
                }
                button type="submit" name="decision" value="allow" { "Allow" }
                button.deny type="submit" name="decision" value="deny" { "Cancel" }
            }
        },
    )
}

/// What the verification page shows.
pub struct VerifyView<'a> {
    /// Where the form posts (`{session prefix}/us/code`).
    pub action: String,
    /// The code typed so far.
    pub code: Option<&'a str>,
    /// The device's application and its scopes, once a valid pending code was entered.
    pub found: Option<(&'a str, Vec<(String, &'static str)>)>,
    /// A problem with the entered code.
    pub problem: Option<&'a str>,
    /// Customers to sign in as.
    pub users: &'a [User],
}

/// The code-based-linking page: enter the code, sign in, Allow or Deny.
pub fn verify_page(v: &VerifyView<'_>) -> Markup {
    layout(
        "Register your device",
        html! {
            h1 { "Register your device" }
            @if let Some(p) = v.problem {
                div.box.err { p id="problem" { (p) } }
            }
            @match &v.found {
                None => {
                    form method="get" action=(v.action) {
                        div.box {
                            label { "Enter the code shown on your device: "
                                input type="text" name="code" maxlength="16" autocomplete="off" value=(v.code.unwrap_or("")); }
                        }
                        button type="submit" { "Continue" }
                    }
                }
                Some((app, scopes)) => {
                    form method="post" action=(v.action) {
                        input type="hidden" name="user_code" value=(v.code.unwrap_or(""));
                        div.box {
                            p { "Sign in as:" }
                            @for (i, u) in v.users.iter().enumerate() {
                                div { label {
                                    input type="radio" name="user_id" value=(u.user_id.as_str()) checked[i == 0];
                                    " " (u.name) " (" (u.email) ")"
                                } }
                            }
                        }
                        div.box {
                            p { strong { (app) } " (code " code { (v.code.unwrap_or("").to_ascii_uppercase()) } ") would like to access:" }
                            ul id="scopes" { @for (name, desc) in scopes { li { (desc) " " code { (name) } } } }
                        }
                        button type="submit" name="decision" value="allow" { "Allow" }
                        button.deny type="submit" name="decision" value="deny" { "Deny" }
                    }
                }
            }
        },
    )
}

/// The page after a decision on the verification page.
pub fn verify_done(approved: bool) -> Markup {
    layout(
        "Device registration",
        html! {
            div.box {
                @if approved {
                    h1 id="result" { "Success" }
                    p { "Your device is registered. You can return to it now." }
                } @else {
                    h1 id="result" { "Registration cancelled" }
                    p { "You declined. The device will not get access." }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        let page = error_page("An unknown scope was requested", &[("state", Some("<script>x</script>"))]).into_string();
        assert!(page.contains("400 Bad Request"));
        assert!(page.contains("&lt;script&gt;"));
        assert!(!page.contains("<script>x"));
    }
}
