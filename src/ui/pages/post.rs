//! `/posts/:slug`: the post, its like button and its comments. The page renders on the
//! server; the like button and the comments are islands (live, no reloads), and plain forms
//! without JavaScript. `?before=<cursor>` shows older comments.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::{
    hooks::{use_params_map, use_query_map},
    location::Url,
};

use crate::{
    models::{time, ErrorCode, PostView},
    server_fns::posts::{get_post, AddComment, DeleteComment},
    ui::load::resource,
    ui::{
        components::forms::plain_post_error,
        islands::post::{Comments, LikeButton},
        pages::not_found::NotFound,
    },
};

#[component]
pub fn PostPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let before = query.read_untracked().get("before");
    let page = resource(
        move || (params.read().get("slug").unwrap_or_default(), query.read().get("before")),
        |(slug, before)| get_post(slug, before),
    );

    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {Suspend::new(async move {
                match page.await {
                    Ok(view) => view! { <Article view before/> }.into_any(),
                    Err(e) if e.code == ErrorCode::NotFound => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Article(view: PostView, before: Option<String>) -> impl IntoView {
    let PostView { post, html, stats, comments, viewer_id, viewer_is_admin } = view;
    let post_id = post.id;
    let date = time::day(post.published_at.as_ref().unwrap_or(&post.created_at));
    let description: String = post.body.chars().take(160).collect();
    let login_href = format!("/login?next={}", Url::escape(&format!("/posts/{}", post.slug)));
    let (add_error, delete_error) = (plain_post_error::<AddComment>(), plain_post_error::<DeleteComment>());

    view! {
        <Title text=post.title.clone()/>
        <Meta name="description" content=description/>
        <article class="card post">
            <h1>{post.title.clone()}</h1>
            <p class="meta">
                <span>{post.author_name.clone()}</span> " · " <time>{date}</time> " · " <span>{post.category.as_str()}</span>
                {(!post.published).then(|| view! { " · " <strong class="badge">"Draft"</strong> })}
            </p>
            <div class="prose" inner_html=html></div>
            <p class="tags">
                {post.tags.iter().map(|t| view! { <a class="tag" href=format!("/?tag={}", Url::escape(t))>{format!("#{t}")}</a> }).collect_view()}
            </p>
            {match viewer_id {
                Some(_) => view! { <LikeButton post_id stats/> }.into_any(),
                None => view! { <p class="muted">"♥ " <span data-testid="like-count">{stats.likes}</span> " likes"</p> }.into_any(),
            }}
        </article>
        <section class="card comments" id="comments">
            <Comments
                post_id
                slug=post.slug.clone()
                window=comments
                before
                viewer_id
                viewer_is_admin
                login_href
                add_error
                delete_error
            />
        </section>
    }
}
