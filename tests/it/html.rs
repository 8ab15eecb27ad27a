//! Reading the mock's HTML pages the way a browser would: the form's action, its hidden fields and radio
//! buttons, and LWA's "400 Bad Request" page. The pages are rendered by `maud`, which escapes `& < > "`
//! in every value, so a small scanner is enough; no HTML parser is needed.

#![allow(dead_code)]

use crate::support::Resp;

/// Undoes maud's escaping (`&amp; &lt; &gt; &quot;`, plus `&#39;` for good measure).
pub fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'").replace("&amp;", "&")
}

/// Every `<input …>` tag of the page, as its attributes (name → unescaped value).
pub fn inputs(html: &str) -> Vec<Vec<(String, String)>> {
    html.match_indices("<input")
        .map(|(i, _)| attributes(&html[i..html[i..].find('>').map_or(html.len(), |e| i + e)]))
        .collect()
}

/// The attributes of one tag's text (`<input type="hidden" name="a" value="b" checked`), in order; a bare
/// boolean attribute such as `checked` has an empty value.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut s = tag.trim_start_matches('<').trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    let mut out = Vec::new();
    loop {
        s = s.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if s.is_empty() {
            return out;
        }
        let name_end = s.find(|c: char| c == '=' || c == '/' || c.is_whitespace()).unwrap_or(s.len());
        let name = s[..name_end].to_owned();
        s = &s[name_end..];
        match s.strip_prefix("=\"") {
            Some(rest) => {
                let end = rest.find('"').expect("attribute value is closed");
                out.push((name, unescape(&rest[..end])));
                s = &rest[end + 1..];
            }
            None => out.push((name, String::new())),
        }
    }
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The hidden fields of the page's form, in page order.
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    inputs(html)
        .iter()
        .filter(|a| attr(a, "type") == Some("hidden"))
        .map(|a| (attr(a, "name").unwrap_or("").to_owned(), attr(a, "value").unwrap_or("").to_owned()))
        .collect()
}

/// The values of the radio buttons named `name`, and which one is checked.
pub fn radios(html: &str, name: &str) -> (Vec<String>, Option<String>) {
    let mut values = Vec::new();
    let mut checked = None;
    for a in inputs(html) {
        if attr(&a, "type") == Some("radio") && attr(&a, "name") == Some(name) {
            let v = attr(&a, "value").unwrap_or("").to_owned();
            if a.iter().any(|(k, _)| k == "checked") {
                checked = Some(v.clone());
            }
            values.push(v);
        }
    }
    (values, checked)
}

/// The `action` and `method` of the page's (first) form.
pub fn form(html: &str) -> (String, String) {
    let i = html.find("<form").expect("the page has a form");
    let tag = &html[i..i + html[i..].find('>').expect("form tag closes")];
    let a = attributes(tag);
    (attr(&a, "action").expect("form has an action").to_owned(), attr(&a, "method").unwrap_or("get").to_owned())
}

/// Whether the page has a submit button with this name, value and label.
pub fn has_button(html: &str, name: &str, value: &str, label: &str) -> bool {
    html.match_indices("<button").any(|(i, _)| {
        let end = html[i..].find("</button>").map_or(html.len(), |e| i + e);
        let tag_end = html[i..].find('>').map_or(end, |e| i + e);
        let a = attributes(&html[i..tag_end]);
        attr(&a, "type") == Some("submit")
            && attr(&a, "name") == Some(name)
            && attr(&a, "value") == Some(value)
            && html[tag_end + 1..end].trim() == label
    })
}

/// Asserts a 200 HTML page.
pub fn assert_html_page(r: &Resp) {
    assert_eq!(r.status, 200, "body: {}", r.text);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.text.starts_with("<!DOCTYPE html>"), "{}", r.text);
}

/// Asserts LWA's HTML error page (`lwa.md` §3.3, §13.6): 400, HTML, "Error Summary / 400 Bad Request /
/// message / Request Details" listing the six request parameters with their values (an empty cell for
/// one that was not sent), and no redirect.
pub fn assert_error_page(r: &Resp, message: &str, details: &[(&str, &str)]) {
    assert_eq!(r.status, 400, "body: {}", r.text);
    assert_eq!(r.header("location"), None, "the 400 page never redirects");
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let page = &r.text;
    let pos = |needle: &str| page.find(needle).unwrap_or_else(|| panic!("{needle:?} is not on the page: {page}"));
    let summary = pos("<h1>Error Summary</h1>");
    let status = pos("<h2>400 Bad Request</h2>");
    let msg = pos(&format!("<p id=\"message\">{}</p>", crate::html::escape(message)));
    let req = pos("<h1>Request Details</h1>");
    assert!(summary < status && status < msg && msg < req, "the page's parts are out of order: {page}");
    for key in ["client_id", "response_type", "redirect_uri", "scope", "state", "scope_data"] {
        let row = match details.iter().find(|(k, _)| *k == key) {
            Some((_, v)) => format!("<tr><td>{key}</td><td><code>{}</code></td></tr>", escape(v)),
            None => format!("<tr><td>{key}</td><td></td></tr>"),
        };
        assert!(page.contains(&row), "Request Details lack {row:?}: {page}");
    }
}

/// maud's escaping, for building expected markup.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
