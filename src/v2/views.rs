//! V2 views (spec `music-api.md` §3.3, §5.2, §11.3), scope `music::catalog`: `GET /v2/views/home` and
//! `GET /v2/views/home/{groupId}`, built from the same groups as V1's home view (the core's `api::views`).
//!
//! Views page differently from lists: no `items`/`nextToken`. `GET /v2/views/home?first&after` pages the
//! view's groups (default 20, max 100) and puts the next page's cursor in the view's `content.nextPageToken`;
//! each group shows its first 10 entities and the cursor of the rest in its own `content.nextPageToken`,
//! which `GET /v2/views/home/{groupId}?after=<token>&first=` follows (the group's `id` is the `groupId`).

use axum::response::Response;
use serde_json::{Value, json};

use super::{V2Ctx, page_request};
use crate::api::views::{self, GROUP_LIMIT, GroupPage};
use crate::api::{ApiPath, Requires};
use crate::catalog::Catalog;

fn group_json(cat: &Catalog, g: GroupPage) -> Value {
    cat.entity_group_json(&g.id, &g.title, &g.entities, g.next_token)
}

/// `GET /v2/views/home?first&after` → the home View with a page of its groups.
pub async fn home(ctx: V2Ctx) -> Response {
    ctx.handle(Requires::CATALOG, async |c| {
        let v = views::view(&ctx, c.user_id(), "home", None, ctx.page()?, GROUP_LIMIT).await?;
        let page: Vec<Value> = v.groups.into_iter().map(|g| group_json(ctx.catalog(), g)).collect();
        Ok(json!({
            "_type": "View",
            "id": v.id,
            "images": [],
            "content": { "_type": "ViewContent", "nextPageToken": v.next_token, "entityGroups": page },
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
        Ok(group_json(ctx.catalog(), views::group(&ctx, c.user_id(), "home", id, p).await?).into())
    })
    .await
}
