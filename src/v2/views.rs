//! V2 views (spec `music-api.md` §3.3, §5.2, §11.3), scope `music::catalog`: `GET /v2/views/home` and
//! `GET /v2/views/home/{groupId}`, built from the same groups as V1's home view (`music::views`).
//!
//! Views page differently from lists: no `items`/`nextToken`. `GET /v2/views/home?first&after` pages the
//! view's groups (default 20, max 100) and puts the next page's cursor in the view's `content.nextPageToken`;
//! each group shows its first 10 entities and the cursor of the rest in its own `content.nextPageToken`,
//! which `GET /v2/views/home/{groupId}?after=<token>&first=` follows (the group's `id` is the `groupId`).

use axum::response::Response;
use serde_json::json;

use super::error::V2Error;
use super::{V2Ctx, page_request};
use crate::api::{ApiPath, Requires};
use crate::v1::page::encode_cursor;
use crate::v1::views::{GROUP_LIMIT, group_json, groups};

/// `GET /v2/views/home?first&after` → the home View with a page of its groups.
pub async fn home(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::CATALOG, async |c| {
        let p = ctx.page()?;
        let all: Vec<_> = groups(&ctx, c, "home", None).await?.into_iter().filter(|g| !g.entities.is_empty()).collect();
        let cat = ctx.catalog();
        let page: Vec<_> =
            all.iter().skip(p.offset).take(p.limit).map(|g| group_json(cat, "home", g, 0, GROUP_LIMIT)).collect();
        let next = p.offset + page.len();
        let token = (!page.is_empty() && next < all.len()).then(|| encode_cursor(next, 0));
        Ok(json!({
            "_type": "View",
            "id": "home",
            "images": [],
            "content": { "_type": "ViewContent", "nextPageToken": token, "entityGroups": page },
        })
        .into())
    })
    .await
}

/// `GET /v2/views/home/{groupId}?first&after` → one EntityGroup page; `groupId` is the group's `id`
/// (`home:newReleases`; the part after `home:` alone also works).
pub async fn home_group(ctx: V2Ctx, group_id: ApiPath<String>) -> Response {
    ctx.handle(Requires::CATALOG, async |c| {
        let id = group_id.value()?;
        let p = page_request(ctx.query_param("first").as_deref(), ctx.query_param("after").as_deref())?;
        let all = groups(&ctx, c, "home", None).await?;
        let short = id.strip_prefix("home:").unwrap_or(id);
        let g = all.iter().find(|g| g.id == short).ok_or_else(|| V2Error::not_found("View group", id))?;
        Ok(group_json(ctx.catalog(), "home", g, p.offset, p.limit).into())
    })
    .await
}
