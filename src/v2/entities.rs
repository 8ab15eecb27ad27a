//! The V2 entity shapes (spec `music-api.md` §3.4) and sparse fieldsets (§3.3).
//!
//! Every V2 entity object starts with `_type` (`Track`, `Album`, `Artist`, `Playlist`; view entities and
//! groups already carry theirs). Track, album and artist are the V1 shapes (`catalog::json`) with `_type`
//! first; a track adds `mediaType:"audio"` and `label` (its album's label). A playlist has the V2 shape
//! `{_type, id, title, description, visibility, trackCount, duration, url, owner{id,name},
//! images[{url,width,height,imageType}], parentalSettings{hasExplicitLanguage}}`, for catalog and customer
//! playlists alike, rendered from the core's description (`api::playlists::Named`).
//!
//! `fields[<type>]=a,b` keeps only those keys (plus `_type` and `id`) in every object of that type, wherever it
//! is nested. An object's type is its `_type` (first letter lowered: `EntityGroup` → `entityGroup`), or for
//! nested objects without one the key holding it: `album` → album, `artists` → artist, `images` → image,
//! `tracks` → track.

use serde_json::{Map, Value, json};

use crate::api::playlists::{Named, Playlist};
use crate::catalog::{Album, Artist, Catalog, Track};

/// Puts `_type` in front of an object's keys.
fn typed(ty: &str, v: Value) -> Value {
    let mut out = Map::new();
    out.insert("_type".into(), json!(ty));
    if let Value::Object(o) = v {
        out.extend(o);
    }
    Value::Object(out)
}

/// A V2 Track: the V1 track with `_type` first, then `mediaType:"audio"` and `label` last.
pub fn track(cat: &Catalog, t: &Track) -> Value {
    let mut v = typed("Track", cat.track_json(t));
    if let Some(o) = v.as_object_mut() {
        o.insert("mediaType".into(), json!("audio"));
        let label = cat.albums().get(t.album.get()).map_or("", |a| &*a.label);
        o.insert("label".into(), json!(label));
    }
    v
}

/// A V2 Album: the V1 album with `_type` first.
pub fn album(cat: &Catalog, a: &Album) -> Value {
    typed("Album", cat.album_json(a))
}

/// A V2 Artist: the V1 artist with `_type` first.
pub fn artist(cat: &Catalog, a: &Artist) -> Value {
    typed("Artist", cat.artist_json(a))
}

/// A V2 Playlist, its owner named `owner_name`: `{_type, id, title, description, visibility, trackCount, duration, url, owner{id,name},
/// images[{url,width,height,imageType}], parentalSettings{hasExplicitLanguage}}`, catalog and customer playlists
/// alike (a catalog playlist's owner is its curator, named "Amazon Music").
pub fn playlist(pl: &Playlist, owner_name: &str) -> Value {
    json!({
        "_type": "Playlist",
        "id": pl.id,
        "title": pl.title,
        "description": pl.description,
        "visibility": pl.visibility,
        "trackCount": pl.track_count,
        "duration": pl.duration,
        "url": pl.url,
        "owner": { "id": pl.owner_id, "name": owner_name },
        "images": [{ "url": pl.image, "width": 500, "height": 500, "imageType": "PRIMARY" }],
        "parentalSettings": { "hasExplicitLanguage": pl.explicit },
    })
}

/// A V2 Playlist of a playlist named after its owner.
pub fn named_playlist(p: &Named) -> Value {
    playlist(&p.playlist, &p.owner_name)
}

/// The fieldset types of §3.3.
pub const FIELDSET_TYPES: [&str; 10] = [
    "album",
    "artist",
    "image",
    "track",
    "view",
    "entityGroup",
    "playlist",
    "podcastShow",
    "podcastEpisode",
    "station",
];

/// The `fields[<type>]` of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fieldsets(Vec<(String, Vec<String>)>);

impl Fieldsets {
    /// Reads every `fields[<type>]=a,b,c` of the query; other parameters are left alone.
    ///
    /// # Errors
    /// A type that is not one of [`FIELDSET_TYPES`].
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, String> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for (k, v) in pairs {
            let Some(ty) = k.strip_prefix("fields[").and_then(|r| r.strip_suffix(']')) else {
                continue;
            };
            if !FIELDSET_TYPES.contains(&ty) {
                return Err(format!("fields[{ty}] names an unknown type: use one of {}", FIELDSET_TYPES.join(", ")));
            }
            let names: Vec<String> = v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
            match out.iter_mut().find(|(t, _)| t == ty) {
                Some((_, list)) => list.extend(names),
                None => out.push((ty.to_owned(), names)),
            }
        }
        Ok(Fieldsets(out))
    }

    /// Whether no fieldset was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Drops, in every object of a type with a fieldset, the keys the fieldset does not name (`_type` and `id`
    /// stay).
    pub fn shape(&self, v: &mut Value) {
        if !self.is_empty() {
            self.shape_as(v, None);
        }
    }

    fn shape_as(&self, v: &mut Value, hint: Option<&str>) {
        match v {
            Value::Array(items) => items.iter_mut().for_each(|x| self.shape_as(x, hint)),
            Value::Object(o) => {
                let ty = match o.get("_type").and_then(Value::as_str) {
                    Some(t) => Some(lower_first(t)),
                    None => hint.map(str::to_owned),
                };
                for (k, child) in o.iter_mut() {
                    self.shape_as(child, nested_type(k));
                }
                let keep = ty.as_deref().and_then(|t| self.0.iter().find(|(x, _)| x == t)).map(|(_, f)| f);
                if let Some(keep) = keep {
                    o.retain(|k, _| k == "_type" || k == "id" || keep.iter().any(|f| f == k));
                }
            }
            _ => {}
        }
    }
}

fn lower_first(t: &str) -> String {
    let mut c = t.chars();
    c.next().map(|f| f.to_ascii_lowercase().to_string() + c.as_str()).unwrap_or_default()
}

/// The type of untyped objects held under `key`.
fn nested_type(key: &str) -> Option<&'static str> {
    match key {
        "album" => Some("album"),
        "artists" => Some("artist"),
        "images" => Some("image"),
        "tracks" => Some("track"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fieldsets {
        let owned: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Fieldsets::parse(&owned).expect("valid")
    }

    #[test]
    fn fieldsets_shape_each_type_wherever_it_is_nested() {
        let mut v = json!({"items": [{
            "_type": "Track", "id": "T", "title": "t", "duration": 1,
            "album": {"id": "A", "title": "a", "url": "u"},
            "artists": [{"id": "R", "name": "r", "url": "u"}],
        }]});
        fields(&[("fields[track]", "title,album"), ("fields[album]", "title"), ("limit", "3")]).shape(&mut v);
        assert_eq!(
            v,
            json!({"items": [{"_type": "Track", "id": "T", "title": "t", "album": {"id": "A", "title": "a"}}]})
        );
    }

    #[test]
    fn views_groups_and_entities_have_their_own_fieldsets() {
        let mut v = json!({"_type": "View", "id": "home", "images": [],
            "content": {"_type": "ViewContent", "entityGroups": [{"_type": "EntityGroup", "id": "g", "title": "G",
                "viewType": "LIST", "content": {"_type": "EntityGroupContent", "entities": [
                    {"_type": "Album", "id": "A", "title": "a", "images": [{"url": "x"}]}]}}]}});
        fields(&[("fields[view]", "content"), ("fields[entityGroup]", "content"), ("fields[album]", "title")])
            .shape(&mut v);
        let g = &v["content"]["entityGroups"][0];
        assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["_type", "id", "content"]);
        assert_eq!(g.as_object().unwrap().keys().collect::<Vec<_>>(), ["_type", "id", "content"]);
        assert_eq!(g["content"]["entities"][0], json!({"_type": "Album", "id": "A", "title": "a"}));
    }

    #[test]
    fn unknown_fieldset_types_are_refused() {
        let pairs = vec![("fields[song]".to_owned(), "title".to_owned())];
        assert!(Fieldsets::parse(&pairs).unwrap_err().contains("fields[song]"));
        assert!(fields(&[]).is_empty());
    }
}
