//! Listening history (spec `music-api.md` §4.5): `GET /v1/player/recentlyPlayed` (limit default 60, max
//! 60) and `GET /v1/me/recentlyPlayedEntities`. Scope `music::history`.
//!
//! History tokens are `<epochMillis>:<uuid>` (§3.1, §11.1): the millis of the last play returned, and in the
//! UUID how many plays of that millisecond the pages so far held; the next page starts right after them.

use axum::response::Response;
use serde_json::{Value, json};

use super::V1Ctx;
use super::error::MusicError;
use super::page::{connection, edge, request};
use crate::api::Requires;
use crate::catalog::EntityRef;
use crate::store::music::Play;

/// Epoch milliseconds as `2021-08-20T23:41:33.999Z`.
pub fn iso_ms(ms: i64) -> String {
    const FORMAT: &[time::format_description::FormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(FORMAT).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

/// A position in the history, newest first: after the plays newer than `ms` and the first `seen` plays at `ms`.
/// The token is `<ms>:<uuid>` (§3.1); the UUID carries `seen` in its last four bytes, so plays that share a
/// millisecond (a frozen virtual clock) are neither skipped nor repeated across pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct After {
    ms: i64,
    seen: u32,
}

fn bad_token() -> MusicError {
    MusicError::bad_request("Malformed request. The cursor is not a history token (<epochMillis>:<uuid>).")
}

fn parse_history_token(t: &str) -> Result<After, MusicError> {
    let (ms, id) = t.split_once(':').ok_or_else(bad_token)?;
    let id = uuid::Uuid::try_parse(id).map_err(|_| bad_token())?;
    let ms = ms.parse().map_err(|_| bad_token())?;
    let b = id.as_bytes();
    Ok(After { ms, seen: u32::from_be_bytes([b[12], b[13], b[14], b[15]]) })
}

fn history_token(after: After, random: u128) -> String {
    let mut b = random.to_le_bytes();
    b[12..16].copy_from_slice(&after.seen.to_be_bytes());
    format!("{}:{}", after.ms, uuid::Builder::from_random_bytes(b).into_uuid().hyphenated())
}

/// The page of `plays` (newest first) after `after`, and where the next page starts if there is one.
fn history_page(plays: &[Play], after: Option<After>, limit: usize) -> (&[Play], Option<After>) {
    let newer = |ms: i64| plays.partition_point(|p| p.played_at_ms > ms);
    let start = after.map_or(0, |a| {
        let at_ms = plays[newer(a.ms)..].iter().take_while(|p| p.played_at_ms == a.ms).count();
        newer(a.ms) + (a.seen as usize).min(at_ms)
    });
    let start = start.min(plays.len());
    let end = start.saturating_add(limit).min(plays.len());
    let page = &plays[start..end];
    let next = match page.last() {
        Some(last) if end < plays.len() => {
            Some(After { ms: last.played_at_ms, seen: (end - newer(last.played_at_ms)) as u32 })
        }
        _ => None,
    };
    (page, next)
}

/// `GET /v1/player/recentlyPlayed?limit&cursor` → `data.user.recentTrackPlayback`.
pub async fn recently_played(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::HISTORY, async |c| {
        let p = request(ctx.query_param("limit").as_deref(), None, 60, 60)?;
        let after = ctx.query_param("cursor").filter(|s| !s.is_empty()).map(|t| parse_history_token(&t)).transpose()?;
        let music = ctx.session.store.music();
        let all = music.history(c.user_id(), 0, usize::MAX).await;
        let cat = ctx.catalog();
        let (page, next) = history_page(&all.items, after, p.limit);
        let edges: Vec<Value> = page
            .iter()
            .map(|pl| {
                let node = cat.track(&pl.track_id).map_or_else(|| json!({ "id": pl.track_id }), |t| cat.track_ref_json(t));
                json!({ "playedAt": iso_ms(pl.played_at_ms), "node": node })
            })
            .collect();
        let info = match next {
            Some(a) => json!({ "hasNextPage": true, "token": history_token(a, ctx.session.store.random_u128()) }),
            None => json!({ "hasNextPage": false }),
        };
        let profile = music.music_profile(c.user_id()).await;
        Ok(json!({ "user": { "id": profile.id, "recentTrackPlayback": { "pageInfo": info, "edgeCount": edges.len(), "edges": edges } } }))
    })
    .await
}

/// `GET /v1/me/recentlyPlayedEntities` → `data.user.recentlyPlayedEntities`: the albums of recent plays,
/// most recent first, each once (an assumption about the shape: views' entity form).
pub async fn recent_entities(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::HISTORY, async |c| {
        let p = request(ctx.query_param("limit").as_deref(), ctx.query_param("cursor").as_deref(), 20, 100)?;
        let music = ctx.session.store.music();
        let all = music.history(c.user_id(), 0, usize::MAX).await;
        let cat = ctx.catalog();
        let mut seen = Vec::new();
        for pl in &all.items {
            if let Some(t) = cat.track(&pl.track_id) {
                if !seen.contains(&t.album) {
                    seen.push(t.album);
                }
            }
        }
        let total = seen.len();
        let edges = seen
            .into_iter()
            .enumerate()
            .skip(p.offset)
            .take(p.limit)
            .filter_map(|(i, a)| cat.view_entity_json(EntityRef::Album(a)).map(|v| edge(i + 1, all.version, v)))
            .collect();
        let profile = music.music_profile(c.user_id()).await;
        Ok(json!({ "user": { "id": profile.id, "recentlyPlayedEntities": connection(p.offset, total, all.version, edges) } }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plays(ms: &[i64]) -> Vec<Play> {
        ms.iter().enumerate().map(|(i, &m)| Play { played_at_ms: m, track_id: format!("t{i}") }).collect()
    }

    #[test]
    fn history_pages_neither_skip_nor_repeat_plays_that_share_a_millisecond() {
        // Newest first, with runs of equal times (a frozen clock).
        let all = plays(&[9, 7, 7, 7, 7, 5, 5, 3, 1, 1]);
        for limit in 1..=all.len() {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let (page, next) = history_page(&all, after, limit);
                assert!(!page.is_empty() && page.len() <= limit);
                seen.extend(page.iter().map(|p| p.track_id.clone()));
                match next {
                    // Through the token's text, as a client would send it back.
                    Some(a) => after = Some(parse_history_token(&history_token(a, 0xdead_beef)).unwrap()),
                    None => break,
                }
            }
            let want: Vec<String> = all.iter().map(|p| p.track_id.clone()).collect();
            assert_eq!(seen, want, "limit {limit}");
        }
        assert_eq!(history_page(&[], None, 5), (&[][..], None));
    }

    #[test]
    fn history_tokens_are_epoch_millis_and_a_uuid() {
        let t = history_token(After { ms: 1_629_502_893_999, seen: 3 }, 7);
        let (ms, id) = t.split_once(':').unwrap();
        assert_eq!(ms, "1629502893999");
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
        assert_eq!(parse_history_token(&t).unwrap(), After { ms: 1_629_502_893_999, seen: 3 });
        // Any UUID is accepted (an unknown count skips nothing it should not: at most the plays of that ms).
        assert!(parse_history_token("12:3ae81437-0000-4000-8000-000000000000").is_ok());
        for bad in ["", "12", "x:3ae81437-0000-4000-8000-000000000000", "12:nope"] {
            assert!(parse_history_token(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn iso_dates_are_utc_with_millis() {
        assert_eq!(iso_ms(1_629_502_893_999), "2021-08-20T23:41:33.999Z");
        assert_eq!(iso_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
