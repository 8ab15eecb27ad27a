//! The JSON Schema of the scenario format, generated from the [`Scenario`] types and committed as
//! `scenarios/schema.json` for editor completion (yaml-language-server and the like read JSON Schema
//! draft-07 best). `amazon-music-mock schema --out scenarios/schema.json` rewrites it; a test checks that the
//! committed file is current.

use schemars::generate::SchemaSettings;

use super::model::Scenario;

/// Where the schema is committed, relative to the repository root.
pub const SCHEMA_PATH: &str = "scenarios/schema.json";

/// The schema as pretty JSON with a final newline.
pub fn schema_json() -> String {
    let schema = SchemaSettings::draft07().into_generator().into_root_schema_for::<Scenario>();
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_schema_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/schema.json");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == schema_json(),
            "scenarios/schema.json is out of date: run `cargo run -- schema --out scenarios/schema.json`"
        );
    }

    #[test]
    fn the_schema_names_the_step_kinds_and_matchers() {
        let s = schema_json();
        for word in ["\"request\"", "\"poll\"", "\"control\"", "\"advance_clock\"", "\"pointers\"", "\"regex\""] {
            assert!(s.contains(word), "{word} missing from the schema");
        }
        let stream_keys =
            ["\"audio\"", "\"frequency\"", "\"bits_per_sample\"", "\"dash\"", "\"representations_include\""];
        for word in stream_keys.into_iter().chain(["\"append_manifest_query\"", "\"range\"", "\"header\""]) {
            assert!(s.contains(word), "{word} missing from the schema");
        }
    }
}
