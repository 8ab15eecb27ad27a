//! Listening history (spec `music-api.md` §4.5): `GET /v1/player/recentlyPlayed` (limit default 60, max
//! 60) and `GET /v1/me/recentlyPlayedEntities`. Scope `music::history`.
//!
//! History tokens are `<epochMillis>:<uuid>` (§3.1, §11.1): the millis of the last play returned, and in the
//! UUID how many plays of that millisecond the pages so far held; the next page starts right after them. The
//! paging of the history is the core's (`api::library::history_page`); the tokens are V1's.

use axum::response::Response;
use serde_json::{Value, json};

use super::V1Ctx;
use super::error::MusicError;
use super::me::user_data;
use super::page::{connection, edge, request};
use crate::api::Requires;
use crate::api::library::{self, After, Plays};
use crate::catalog::EntityRef;

/// Epoch milliseconds as `2021-08-20T23:41:33.999Z`.
pub fn iso_ms(ms: i64) -> String {
    const FORMAT: &[time::format_description::FormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(FORMAT).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

fn bad_token() -> MusicError {
    MusicError::bad_request("Malformed request. The cursor is not a history token (<epochMillis>:<uuid>).")
}

/// Reads a history token: `<ms>:<uuid>`, the UUID carrying in its last four bytes how many plays of that
/// millisecond the pages so far held ([`After`]).
fn parse_history_token(t: &str) -> Result<After, MusicError> {
    let (ms, id) = t.split_once(':').ok_or_else(bad_token)?;
    let id = uuid::Uuid::try_parse(id).map_err(|_| bad_token())?;
    let ms = ms.parse().map_err(|_| bad_token())?;
    let b = id.as_bytes();
    Ok(After { ms, seen: u32::from_be_bytes([b[12], b[13], b[14], b[15]]) })
}

/// The token of a position in the history, its UUID random but for `seen`.
fn history_token(after: After, random: u128) -> String {
    let mut b = random.to_le_bytes();
    b[12..16].copy_from_slice(&after.seen.to_be_bytes());
    format!("{}:{}", after.ms, uuid::Builder::from_random_bytes(b).into_uuid().hyphenated())
}

/// `{pageInfo, edgeCount, edges[{playedAt, node}]}` of a page of plays, each node a track reference; the next
/// page's token has a UUID from the session's random source.
fn plays_json(ctx: &V1Ctx, page: &Plays) -> Value {
    let cat = ctx.catalog();
    let node = |id: &str| cat.track(id).map_or_else(|| json!({ "id": id }), |t| cat.track_ref_json(t));
    let edges: Vec<Value> =
        (page.plays.iter()).map(|p| json!({ "playedAt": iso_ms(p.played_at_ms), "node": node(&p.track_id) })).collect();
    let info = match page.next {
        Some(a) => json!({ "hasNextPage": true, "token": history_token(a, ctx.session.store.random_u128()) }),
        None => json!({ "hasNextPage": false }),
    };
    json!({ "pageInfo": info, "edgeCount": edges.len(), "edges": edges })
}

/// `GET /v1/player/recentlyPlayed?limit&cursor` → `data.user.recentTrackPlayback`.
pub async fn recently_played(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::HISTORY, async |c| {
        let limit = request(ctx.query_param("limit").as_deref(), None, 60, 60)?.limit;
        let after = ctx.query_param("cursor").filter(|s| !s.is_empty()).map(|t| parse_history_token(&t)).transpose()?;
        let page = library::recently_played(&ctx, c.user_id(), after, limit).await;
        let plays = plays_json(&ctx, &page);
        Ok(user_data(&ctx, c, "recentTrackPlayback", plays).await)
    })
    .await
}

/// `GET /v1/me/recentlyPlayedEntities` → `data.user.recentlyPlayedEntities`: the albums of recent plays,
/// most recent first, each once (an assumption about the shape: views' entity form).
pub async fn recent_entities(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::HISTORY, async |c| {
        let page = library::recent_albums(&ctx, c.user_id(), ctx.page(20, 100)?).await;
        let cat = ctx.catalog();
        let edges = (page.items.iter().enumerate())
            .filter_map(|(i, &a)| {
                cat.view_entity_json(EntityRef::Album(a)).map(|v| edge(page.offset + i + 1, page.version, v))
            })
            .collect();
        let albums = connection(page.offset, page.total, page.version, edges);
        Ok(user_data(&ctx, c, "recentlyPlayedEntities", albums).await)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::library::history_page;
    use crate::store::music::Play;

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
