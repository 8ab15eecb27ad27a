//! Device API documents and references (spec `music-api.md` §7 "Document<T>"): a `result` local reference
//! (`"#root"`) to the main object plus named dictionaries (`navigationNodeSummaries`,
//! `navigationNodeDescriptions`, `itemDescriptions`, `trackContainerChunkDescriptions`, `trackInstances`,
//! `trackDefinitions`, …) in which local references (`"#name"`) resolve.

use serde_json::{Map, Value, json};

use crate::api::ApiRequest;
use crate::context::{DEVICE_HOST, host_name};

/// A document under construction.
#[derive(Debug, Clone)]
pub struct Doc {
    result: String,
    dicts: Map<String, Value>,
}

impl Doc {
    /// A document whose `result` is `#<result>`.
    pub fn new(result: &str) -> Self {
        Doc { result: format!("#{result}"), dicts: Map::new() }
    }

    /// Puts `value` in dictionary `dict` under `name`; returns its local reference `"#name"`.
    pub fn put(&mut self, dict: &str, name: &str, value: Value) -> String {
        let d = self.dicts.entry(dict.to_owned()).or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(o) = d {
            o.insert(name.to_owned(), value);
        }
        format!("#{name}")
    }

    /// Puts a `NavigationNodeDescription {summary, items}` and its `NavigationNodeSummary {title,
    /// description}` (whose description refers back to the node, locally); returns the summary's reference.
    pub fn node(&mut self, name: &str, title: &str, items: Vec<String>) -> String {
        let summary = self.put(
            "navigationNodeSummaries",
            &format!("{name}_summary"),
            json!({ "title": title, "description": format!("#{name}") }),
        );
        self.put("navigationNodeDescriptions", name, json!({ "summary": &summary, "items": items }));
        summary
    }

    /// Puts an `ItemDescription {itemLabel, navigationNodeSummary}` for a summary already in the document;
    /// returns the item's reference.
    pub fn item(&mut self, name: &str, label: &str, summary: &str) -> String {
        self.put("itemDescriptions", name, json!({ "itemLabel": label, "navigationNodeSummary": summary }))
    }

    /// Puts an item whose summary refers to a document elsewhere (`description` a remote reference: a
    /// navigation node or a track container); returns the item's reference.
    pub fn link(&mut self, name: &str, label: &str, description: &str) -> String {
        let summary = self.put(
            "navigationNodeSummaries",
            &format!("{name}_summary"),
            json!({ "title": label, "description": description }),
        );
        self.item(name, label, &summary)
    }

    /// The JSON: `result` first, then the dictionaries in the order they were first used.
    pub fn json(self) -> Value {
        let mut out = Map::new();
        out.insert("result".into(), Value::String(self.result));
        out.extend(self.dicts);
        Value::Object(out)
    }
}

/// Where a request's remote references point: `{origin}{/s/session}{mount}`, the origin from `--public-url`
/// or the request's scheme (`https` over `serve --tls`) and `Host` (`Streams::base`), the mount `/device`
/// unless the origin's host is the Device API's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    base: String,
}

impl Links {
    /// The references of a request.
    pub fn for_request(req: &ApiRequest) -> Self {
        let origin = req.state.streams.base(&req.headers, "");
        Links::new(&origin, &req.session.prefix)
    }

    /// The references under `origin` (`http://host:port` or `https://host:port`) and a session prefix (`""` or
    /// `/s/name`).
    pub fn new(origin: &str, session_prefix: &str) -> Self {
        let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        let authority = authority.split('/').next().unwrap_or(authority);
        let mount = if host_name(authority) == DEVICE_HOST { "" } else { "/device" };
        Links { base: format!("{}{session_prefix}{mount}", origin.trim_end_matches('/')) }
    }

    /// The root document's URL (`…/`).
    #[cfg(test)]
    pub fn root(&self) -> String {
        format!("{}/", self.base)
    }

    /// The absolute URL of a document below the root, e.g. `playlist/B0…`.
    pub fn url(&self, rel: &str) -> String {
        format!("{}/{rel}", self.base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_put_result_first_and_dictionaries_in_first_use_order() {
        let mut d = Doc::new("root");
        let item = d.link("stations", "Stations", "https://x/station");
        assert_eq!(item, "#stations");
        d.node("root", "Amazon Music", vec![item]);
        let v = d.json();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["result", "navigationNodeSummaries", "itemDescriptions", "navigationNodeDescriptions"]);
        assert_eq!(
            v["itemDescriptions"]["stations"],
            json!({"itemLabel": "Stations", "navigationNodeSummary": "#stations_summary"})
        );
        assert_eq!(
            v["navigationNodeSummaries"]["root_summary"],
            json!({"title": "Amazon Music", "description": "#root"})
        );
        assert_eq!(
            v["navigationNodeDescriptions"]["root"],
            json!({"summary": "#root_summary", "items": ["#stations"]})
        );
    }

    #[test]
    fn links_mount_under_device_unless_the_origin_is_the_device_host() {
        assert_eq!(
            Links::new("http://127.0.0.1:8080", "/s/t1").url("nav/genres"),
            "http://127.0.0.1:8080/s/t1/device/nav/genres"
        );
        assert_eq!(Links::new("http://music-api.amazon.com:9000", "").root(), "http://music-api.amazon.com:9000/");
        assert_eq!(Links::new("https://mock.example/", "").root(), "https://mock.example/device/");
        assert_eq!(
            Links::new("https://music-api.amazon.com:8443", "/s/t").root(),
            "https://music-api.amazon.com:8443/s/t/"
        );
    }
}
