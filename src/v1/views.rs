//! Views (spec `music-api.md` §3.4 "View (V1)", §4.5): `GET /v1/views/home`, `/v1/views/home/{groupId}`
//! and the other named views (paths beyond `home` and `artist/{id}` are assumptions).
//!
//! A view is `{_type:"View", id, images, content{_type:"ViewContent", nextPageToken, entityGroups[…]}}`;
//! each group is `{_type:"EntityGroup", id, title, viewType:"LIST", content{_type:"EntityGroupContent",
//! nextPageToken, entities[…]}}`. Groups hold at most 10 entities a page (`limit` 1–10); a group's next
//! page is `GET /v1/views/<view>/<groupId>?cursor=<nextPageToken>`. The groups are the core's
//! (`api::views`); this file picks each view's scope and renders V1's shapes.

use axum::response::Response;
use serde_json::{Value, json};

use super::page::request;
use super::{V1Ctx, V1Path};
use crate::api::Requires;
use crate::api::views::{self, GROUP_LIMIT, GroupPage, ViewPage};
use crate::catalog::Catalog;

/// A group page: `{_type:"EntityGroup", id:"<view>:<group>", title, viewType:"LIST",
/// content{_type:"EntityGroupContent", nextPageToken, entities}}`; the token is `null` on the last page.
fn group_json(cat: &Catalog, g: GroupPage) -> Value {
    cat.entity_group_json(&g.id, &g.title, &g.entities, g.next_token)
}

/// A view with its groups: `{_type:"View", id, images:[], content{_type:"ViewContent", nextPageToken:null,
/// entityGroups}}`.
fn view_json(cat: &Catalog, v: ViewPage) -> Value {
    let gs: Vec<Value> = v.groups.into_iter().map(|g| group_json(cat, g)).collect();
    json!({
        "_type": "View",
        "id": v.id,
        "images": [],
        "content": { "_type": "ViewContent", "nextPageToken": null, "entityGroups": gs },
    })
}

/// An entity's view: the view, then `entity` (the entity in the views' form, `null` for none).
fn entity_view_json(cat: &Catalog, v: ViewPage, id: &str) -> Value {
    let mut v = view_json(cat, v);
    if let Some(o) = v.as_object_mut() {
        o.insert("entity".into(), cat.lookup(id).and_then(|e| cat.view_entity_json(e)).unwrap_or(Value::Null));
    }
    v
}

/// Every group of a view, each with its first `limit` entities.
const ALL_GROUPS: crate::api::page::PageRequest = crate::api::page::PageRequest { offset: 0, limit: usize::MAX };

/// The scope a view path needs before its groups are built (the auth chain runs with it).
fn scope_of(name: &str) -> Requires {
    match name {
        "home" => Requires::RECOMMENDATION,
        "my-library" => Requires::LIBRARY_READ,
        "recently-played" => Requires::HISTORY,
        _ => Requires::CATALOG,
    }
}

/// `GET /v1/views/{name}` (home, podcasts, my-library, recently-played).
pub async fn view(ctx: V1Ctx, name: V1Path<String>) -> Response {
    let scope = name.get().map_or(Requires::CATALOG, |n| scope_of(n));
    ctx.handle(scope, async |c| {
        let name = name.get()?;
        let limit = request(ctx.query_param("limit").as_deref(), None, GROUP_LIMIT, GROUP_LIMIT)?.limit;
        let v = views::view(&ctx, c.user_id(), name, None, ALL_GROUPS, limit).await?;
        Ok(view_json(ctx.catalog(), v))
    })
    .await
}

/// `GET /v1/views/{name}/{id}`: an entity's view (artist, album, playlist, podcast-show) or, for views
/// without an entity, one group's page (`/v1/views/home/{groupId}?cursor&limit`).
pub async fn view_with_id(ctx: V1Ctx, params: V1Path<(String, String)>) -> Response {
    let scope = params.get().map_or(Requires::CATALOG, |(n, _)| scope_of(n));
    ctx.handle(scope, async |c| {
        let (name, id) = params.get()?;
        let p = ctx.page(GROUP_LIMIT, GROUP_LIMIT)?;
        let cat = ctx.catalog();
        if matches!(name.as_str(), "home" | "podcasts" | "my-library" | "recently-played") {
            return Ok(group_json(cat, views::group(&ctx, c.user_id(), name, id, p).await?));
        }
        let v = views::view(&ctx, c.user_id(), name, Some(id), ALL_GROUPS, p.limit).await?;
        Ok(entity_view_json(cat, v, id))
    })
    .await
}
