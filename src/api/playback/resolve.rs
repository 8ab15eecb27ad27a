//! MRNs (spec `music-api.md` §3.1, §11.1) resolved to the tracks a queue plays: a track, an album's tracks, a
//! playlist's tracks (catalog, or a customer's the caller may read), an artist's most popular tracks; and the
//! stations and autoplay tails built from the artists an MRN starts at.

use crate::api::auth::Caller;
use crate::api::error::{Noun, Problem};
use crate::api::playlists::{Readable, readable};
use crate::api::request::ApiRequest;
use crate::catalog::{ArtistIdx, Catalog, PlaylistTier, Track};
use crate::fixtures::Tier;
use crate::store::playback::{DisableType, QueueTrack};

/// Tracks an artist MRN queues (most popular first).
pub const ARTIST_QUEUE: usize = 50;

/// What an MRN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MrnKind {
    /// A catalog track.
    Track,
    /// An album.
    Album,
    /// A catalog playlist, or a customer's (its id is its UUID).
    Playlist,
    /// An artist.
    Artist,
}

/// `mrn:1.0:catalog:<track|album|playlist|artist>:asin:<id>` (§3.1, §11.1); a user playlist's id is its UUID.
/// `field` names where the MRN was in the request.
///
/// # Errors
/// [`Problem::BadRequest`] for anything else (a podcast included).
pub fn parse_mrn<'a>(field: &str, s: &'a str) -> Result<(MrnKind, &'a str), Problem> {
    let bad = || {
        Problem::bad_request(format!(
            "{field} must be an MRN such as mrn:1.0:catalog:album:asin:B0064UPU4G; got {s:?}."
        ))
    };
    let rest = s.strip_prefix("mrn:1.0:catalog:").ok_or_else(bad)?;
    let (kind, id) = rest.split_once(":asin:").ok_or_else(bad)?;
    if id.is_empty() || id.contains(':') {
        return Err(bad());
    }
    let kind = match kind {
        "track" => MrnKind::Track,
        "album" => MrnKind::Album,
        "playlist" => MrnKind::Playlist,
        "artist" => MrnKind::Artist,
        "podcastShow" | "podcastEpisode" => {
            return Err(Problem::bad_request(format!(
                "{field} {s} is a podcast; playback sessions play tracks, albums, playlists and artists."
            )));
        }
        _ => return Err(bad()),
    };
    Ok((kind, id))
}

/// The caller's tier (every customer the gate lets through has one).
pub(super) fn tier(c: &Caller) -> Result<Tier, Problem> {
    c.user.tier.ok_or(Problem::NoMusicAccount)
}

pub(super) fn queue_track(t: &Track) -> QueueTrack {
    QueueTrack { track_id: t.id.as_str().to_owned(), duration_seconds: u32::from(t.duration) }
}

/// An MRN's tracks, in queue order, and the artists a station from it starts at.
pub(super) struct Resolved {
    pub(super) tracks: Vec<QueueTrack>,
    pub(super) artists: Vec<ArtistIdx>,
}

/// Resolves an MRN to its tracks: a track, an album's tracks, a catalog or (readable) user playlist's tracks,
/// an artist's most popular tracks. A catalog playlist outside the tier's `playbackSubscriptionTiers` is
/// refused (`NEED_AMAZON_MUSIC_UNLIMITED_CATALOG_ACCESS`) unless played as a station.
pub(super) async fn resolve(
    req: &ApiRequest,
    c: &Caller,
    kind: MrnKind,
    id: &str,
    station: bool,
) -> Result<Resolved, Problem> {
    let cat = req.catalog();
    let (tracks, artists): (Vec<&Track>, Vec<ArtistIdx>) = match kind {
        MrnKind::Track => {
            let t = cat.track(id).ok_or_else(|| Problem::not_found(Noun::Track, id))?;
            (vec![t], t.artists().collect())
        }
        MrnKind::Album => {
            let a = cat.album(id).ok_or_else(|| Problem::not_found(Noun::Album, id))?;
            let ts = cat.album_tracks(a.idx).iter().filter_map(|t| cat.tracks().get(t.get())).collect();
            (ts, vec![a.artist])
        }
        MrnKind::Artist => {
            let a = cat.artist(id).ok_or_else(|| Problem::not_found(Noun::Artist, id))?;
            let ts =
                cat.artist_tracks(a.idx).iter().take(ARTIST_QUEUE).filter_map(|t| cat.tracks().get(t.get())).collect();
            (ts, vec![a.idx])
        }
        MrnKind::Playlist => {
            let p = readable(req, c.user_id(), id).await.ok_or_else(|| Problem::not_found(Noun::Playlist, id))?;
            let ts: Vec<&Track> = match p {
                Readable::Catalog(p) => {
                    let t = tier(c)?;
                    let allowed = t == Tier::Unlimited || (t == Tier::Prime && p.tier == PlaylistTier::Prime);
                    if !allowed && !station {
                        let needs = match p.tier {
                            PlaylistTier::Prime => "an Amazon Music subscription (Prime or Unlimited)",
                            PlaylistTier::Unlimited => "Amazon Music Unlimited",
                        };
                        return Err(Problem::Disabled(
                            DisableType::NeedAmazonMusicUnlimitedCatalogAccess,
                            format!("Playing playlist {id} on demand needs {needs}; start it as a station instead.")
                                .into(),
                        ));
                    }
                    p.tracks.iter().filter_map(|t| cat.tracks().get(t.get())).collect()
                }
                Readable::Mine(p) => p.track_ids.iter().filter_map(|t| cat.track(t)).collect(),
            };
            let mut artists: Vec<ArtistIdx> = Vec::new();
            for t in &ts {
                if artists.len() < 3 && !artists.contains(&t.primary_artist()) {
                    artists.push(t.primary_artist());
                }
            }
            (ts, artists)
        }
    };
    if tracks.is_empty() {
        return Err(Problem::bad_request(format!("{id} has no tracks to play.")));
    }
    Ok(Resolved { tracks: tracks.into_iter().map(queue_track).collect(), artists })
}

/// A station: up to `size` tracks of the seed artists and the first one's related artists, five each, most
/// popular first, skipping `exclude`. The store shuffles it by session id.
pub(super) fn station_tracks(
    cat: &Catalog,
    seeds: &[ArtistIdx],
    exclude: &[QueueTrack],
    size: usize,
) -> Vec<QueueTrack> {
    let mut artists = seeds.to_vec();
    if let Some(&first) = seeds.first() {
        artists.extend(cat.related_artists(first, 5));
    }
    let mut out: Vec<QueueTrack> = Vec::new();
    for a in artists {
        for t in cat.artist_tracks(a).iter().take(5).filter_map(|t| cat.tracks().get(t.get())) {
            let q = queue_track(t);
            if out.len() < size && !exclude.contains(&q) && !out.contains(&q) {
                out.push(q);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(p: Problem) -> String {
        match p {
            Problem::BadRequest(d) => d.into_owned(),
            other => panic!("not a bad request: {other:?}"),
        }
    }

    #[test]
    fn mrns_name_a_kind_and_an_id() {
        assert_eq!(parse_mrn("f", "mrn:1.0:catalog:track:asin:B076YT2CBT").unwrap(), (MrnKind::Track, "B076YT2CBT"));
        assert_eq!(parse_mrn("f", "mrn:1.0:catalog:album:asin:B0064UPU4G").unwrap(), (MrnKind::Album, "B0064UPU4G"));
        let uuid = "mrn:1.0:catalog:playlist:asin:15e6a15f-4c2f-4b24-a2fd-286b37ad4fa3";
        assert_eq!(parse_mrn("f", uuid).unwrap().0, MrnKind::Playlist);
        assert_eq!(parse_mrn("f", "mrn:1.0:catalog:artist:asin:B01EJ9KLA6").unwrap().0, MrnKind::Artist);
        for bad in [
            "",
            "B076YT2CBT",
            "mrn:1.0:catalog:track:B076YT2CBT",
            "mrn:1.0:catalog:track:asin:",
            "mrn:2.0:catalog:track:asin:B076YT2CBT",
            "mrn:1.0:catalog:song:asin:B076YT2CBT",
            "mrn:1.0:catalog:track:asin:B076:YT2CBT",
        ] {
            let message = detail(parse_mrn("playParams.id", bad).unwrap_err());
            assert!(message.contains("playParams.id must be an MRN"), "{bad}: {message}");
        }
        let message = detail(parse_mrn("playParams.id", "mrn:1.0:catalog:podcastEpisode:asin:x").unwrap_err());
        assert!(message.contains("is a podcast"), "{message}");
    }
}
