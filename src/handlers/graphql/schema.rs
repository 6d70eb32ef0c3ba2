//! The GraphQL schema over the same services as REST, with the same caller (resolved by
//! the API gate). Depth and complexity are limited, and complexity counts every field of
//! every alias times the page sizes asked for (and a post's body, which may be 100,000
//! characters, as ten), so one request cannot build a huge answer.

use std::sync::OnceLock;

use async_graphql::{Context, EmptySubscription, ErrorExtensions, InputObject, Object, Schema, SimpleObject};

use crate::{
    error::Error,
    middleware::auth::Caller,
    models::{
        list::{page_size, ListFilter, PAGE_DEFAULT, PAGE_MAX},
        post::{CommentBody, COMMENTS_PAGE},
        Category, Comment, Post, PostContent, User,
    },
    services::{
        comments, posts,
        users::{self, UserQuery},
    },
    state::AppState,
};

pub const MAX_DEPTH: usize = 8;
pub const MAX_COMPLEXITY: usize = 1000;

pub type QuireSchema = Schema<Query, Mutation, EmptySubscription>;

fn gql(e: Error) -> async_graphql::Error {
    let public = e.public();
    if let Error::Internal(cause) = &e {
        tracing::error!(error = %cause, "graphql resolver failed");
    }
    async_graphql::Error::new(public.message.clone()).extend_with(|_, ext| {
        ext.set("code", public.code.as_str());
        if !public.errors.is_empty() {
            let fields: Vec<async_graphql::Value> = public
                .errors
                .iter()
                .map(|f| {
                    let mut m = async_graphql::indexmap::IndexMap::new();
                    m.insert(async_graphql::Name::new("field"), async_graphql::Value::from(f.field.clone()));
                    m.insert(async_graphql::Name::new("message"), async_graphql::Value::from(f.message.clone()));
                    async_graphql::Value::Object(m)
                })
                .collect();
            ext.set("errors", async_graphql::Value::List(fields));
        }
    })
}

/// An input rule's refusal (from `models`), as a GraphQL error.
fn app(e: crate::models::AppError) -> async_graphql::Error {
    gql(Error::App(e))
}

/// What a page of `size` (or `default`) items weighs in the complexity limit: as many as the
/// page may hold, so an out-of-range size (refused later) still counts as the largest page.
fn page_weight(size: Option<i64>, default: i64) -> usize {
    usize::try_from(size.unwrap_or(default).clamp(1, PAGE_MAX)).unwrap_or(1)
}

fn state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

fn caller<'a>(ctx: &Context<'a>) -> Option<&'a Caller> {
    ctx.data_unchecked::<Option<Caller>>().as_ref()
}

fn signed_in<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Caller> {
    caller(ctx).ok_or_else(|| gql(Error::unauthorized("Authentication required.")))
}

fn writer<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Caller> {
    let c = signed_in(ctx)?;
    if c.can_write() {
        Ok(c)
    } else {
        Err(gql(Error::forbidden("This token is read-only; writing needs the `write` scope.")))
    }
}

/// A page of posts.
#[derive(SimpleObject)]
pub struct PostConnection {
    pub items: Vec<Post>,
    /// Pass as `after` for the next page.
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// A page of a post's comments, oldest first.
#[derive(SimpleObject)]
pub struct CommentConnection {
    pub items: Vec<Comment>,
    /// Pass as `after` for the next page.
    pub next_cursor: Option<String>,
    pub has_more: bool,
}

/// A page of users.
#[derive(SimpleObject)]
pub struct UserConnection {
    pub items: Vec<User>,
    pub page: i64,
    pub limit: i64,
    pub total: i64,
    pub total_pages: i64,
}

pub struct Query;

#[Object]
impl Query {
    /// The caller.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        Ok(signed_in(ctx)?.user.clone())
    }

    /// Published posts, newest first (cursor pages).
    #[graphql(complexity = "page_weight(first.map(i64::from), PAGE_DEFAULT) * child_complexity + 1")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        category: Option<Category>,
        tags: Option<Vec<String>>,
        author: Option<i64>,
        q: Option<String>,
    ) -> async_graphql::Result<PostConnection> {
        let limit = page_size("first", first.map(i64::from), PAGE_DEFAULT).map_err(app)?;
        let tags = tags.unwrap_or_default();
        let filter = ListFilter::parse(category, tags.iter().map(String::as_str), author, q.as_deref()).map_err(app)?;
        let list = posts::list_published(&state(ctx).db, &filter, after.as_deref(), limit).await.map_err(gql)?;
        let has_more = list.next_cursor.is_some();
        Ok(PostConnection { items: list.items, next_cursor: list.next_cursor, has_more })
    }

    /// One post by id or slug (drafts only for their author and admins).
    async fn post(
        &self,
        ctx: &Context<'_>,
        id: Option<i64>,
        slug: Option<String>,
    ) -> async_graphql::Result<Option<Post>> {
        let viewer = caller(ctx).map(|c| &c.user);
        let db = &state(ctx).db;
        let found = match (id, slug) {
            (Some(id), _) => posts::get(db, viewer, id).await,
            (None, Some(slug)) => posts::get_by_slug(db, viewer, &slug).await,
            (None, None) => return Err(gql(Error::bad_request("Give `id` or `slug`."))),
        };
        match found {
            Ok(p) => Ok(Some(p)),
            Err(e) if e.code() == crate::models::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(gql(e)),
        }
    }

    /// Users (admins only), newest first.
    #[graphql(complexity = "page_weight(limit, PAGE_DEFAULT) * child_complexity + 1")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(minimum = 1))] page: Option<i64>,
        limit: Option<i64>,
        search: Option<String>,
    ) -> async_graphql::Result<UserConnection> {
        let c = signed_in(ctx)?;
        let q = UserQuery {
            page: page.unwrap_or(1),
            limit: page_size("limit", limit, PAGE_DEFAULT).map_err(app)?,
            search: search.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
            sort: crate::db::users::UserSort::CreatedAt,
            descending: true,
        };
        let p = users::list(&state(ctx).db, &c.user, &q).await.map_err(gql)?;
        Ok(UserConnection {
            items: p.data,
            page: p.pagination.page,
            limit: p.pagination.limit,
            total: p.pagination.total,
            total_pages: p.pagination.total_pages,
        })
    }

    /// A post's comments, oldest first (cursor pages of `first`, 1–100, default 50).
    #[graphql(complexity = "page_weight(first.map(i64::from), COMMENTS_PAGE) * child_complexity + 1")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        post_id: i64,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CommentConnection> {
        let limit = page_size("first", first.map(i64::from), COMMENTS_PAGE).map_err(app)?;
        let after = after.as_deref().filter(|a| !a.is_empty());
        let page =
            comments::list(&state(ctx).db, caller(ctx).map(|c| &c.user), post_id, after, limit).await.map_err(gql)?;
        let has_more = page.next_cursor.is_some();
        Ok(CommentConnection { items: page.items, next_cursor: page.next_cursor, has_more })
    }
}

#[derive(InputObject)]
pub struct CreatePostInput {
    pub title: String,
    pub body: String,
    pub category: Category,
    #[graphql(default)]
    pub tags: Vec<String>,
    #[graphql(default)]
    pub published: bool,
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Creates a post (a draft unless `published`).
    async fn create_post(&self, ctx: &Context<'_>, input: CreatePostInput) -> async_graphql::Result<Post> {
        let c = writer(ctx)?;
        let tags: Vec<&str> = input.tags.iter().map(String::as_str).collect();
        let content = PostContent::parse_parts(&input.title, &input.body, input.category.as_str(), &tags)
            .map_err(|e| gql(Error::validation(e)))?;
        let st = state(ctx);
        let post = posts::create_with(&st.db, &st.bus, &c.user, content, input.published).await.map_err(gql)?;
        if post.published {
            st.cache.invalidate().await;
        }
        Ok(post)
    }

    /// Comments on a post.
    async fn create_comment(&self, ctx: &Context<'_>, post_id: i64, body: String) -> async_graphql::Result<Comment> {
        let c = writer(ctx)?;
        let body = CommentBody::parse(&body).map_err(|e| gql(Error::validation(e)))?;
        let st = state(ctx);
        let comment = comments::add(&st.db, &st.bus, &c.user, post_id, &body).await.map_err(gql)?;
        st.cache.invalidate().await;
        Ok(comment)
    }
}

/// The schema (stateless: the app state and the caller travel with each request).
pub fn schema() -> &'static QuireSchema {
    static SCHEMA: OnceLock<QuireSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        Schema::build(Query, Mutation, EmptySubscription)
            .limit_depth(MAX_DEPTH)
            .limit_complexity(MAX_COMPLEXITY)
            .finish()
    })
}
