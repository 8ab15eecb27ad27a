//! Listening history (spec `music-api.md` §4.5): `GET /v1/player/recentlyPlayed` (limit default 60, max
//! 60) and `GET /v1/me/recentlyPlayedEntities`. Scope `music::history`.
//!
//! History tokens are `<epochMillis>:<uuid>` (§3.1, §11.1): the millis of the last play returned; the
//! next page holds strictly older plays.

use axum::response::Response;
use serde_json::{Value, json};

use super::error::MusicError;
use super::page::{connection, edge, request};
use super::{Requires, V1Ctx};
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

fn parse_history_token(t: &str) -> Result<i64, MusicError> {
    let (ms, id) = t.split_once(':').ok_or_else(|| {
        MusicError::bad_request("Malformed request. The cursor is not a history token (<epochMillis>:<uuid>).")
    })?;
    if uuid::Uuid::try_parse(id).is_err() {
        return Err(MusicError::bad_request(
            "Malformed request. The cursor is not a history token (<epochMillis>:<uuid>).",
        ));
    }
    ms.parse().map_err(|_| {
        MusicError::bad_request("Malformed request. The cursor is not a history token (<epochMillis>:<uuid>).")
    })
}

/// `GET /v1/player/recentlyPlayed?limit&cursor` → `data.user.recentTrackPlayback`.
pub async fn recently_played(ctx: V1Ctx) -> Response {
    ctx.handle(Requires::HISTORY, async |c| {
        let p = request(ctx.query_param("limit").as_deref(), None, 60, 60)?;
        let before = ctx.query_param("cursor").filter(|s| !s.is_empty()).map(|t| parse_history_token(&t)).transpose()?;
        let music = ctx.session.store.music();
        let all = music.history(c.user_id(), 0, usize::MAX).await;
        let cat = ctx.catalog();
        let older: Vec<_> = all.items.iter().filter(|pl| before.is_none_or(|b| pl.played_at_ms < b)).collect();
        let page: Vec<_> = older.iter().take(p.limit).collect();
        let edges: Vec<Value> = page
            .iter()
            .map(|pl| {
                let node = cat.track(&pl.track_id).map_or_else(|| json!({ "id": pl.track_id }), |t| cat.track_ref_json(t));
                json!({ "playedAt": iso_ms(pl.played_at_ms), "node": node })
            })
            .collect();
        let info = match page.last() {
            Some(last) if older.len() > page.len() => {
                let token = format!("{}:{}", last.played_at_ms, crate::ids::uuid_from_u128(ctx.session.store.random_u128()));
                json!({ "hasNextPage": true, "token": token })
            }
            _ => json!({ "hasNextPage": false }),
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

    #[test]
    fn iso_dates_are_utc_with_millis() {
        assert_eq!(iso_ms(1_629_502_893_999), "2021-08-20T23:41:33.999Z");
        assert_eq!(iso_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
