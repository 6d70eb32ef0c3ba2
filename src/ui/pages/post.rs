//! `/posts/:slug`: the post, its like button and its comments. Mutations are server
//! actions; the page's resource is keyed on their versions, so counts and comments
//! refresh without a reload (and, without JavaScript, after the redirect back).

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::{
    components::A,
    hooks::{use_params_map, use_query_map},
    location::Url,
};

use crate::{
    models::{CommentWindow, ErrorCode, PostView},
    server_fns::posts::{get_post, post_comments, AddComment, DeleteComment, SetLike},
    ui::{
        browser::use_event_stream,
        components::forms::{FieldError, FormError},
        pages::not_found::NotFound,
    },
};

#[component]
pub fn PostPage() -> impl IntoView {
    let params = use_params_map();
    // `?before=<cursor>`: the "older comments" window (a plain link, so it works without JavaScript).
    let query = use_query_map();
    let add = ServerAction::<AddComment>::new();
    let delete = ServerAction::<DeleteComment>::new();
    let like = ServerAction::<SetLike>::new();
    let page = Resource::new(
        move || {
            (
                params.read().get("slug").unwrap_or_default(),
                query.read().get("before"),
                add.version().get(),
                delete.version().get(),
                like.version().get(),
            )
        },
        |(slug, before, ..)| get_post(slug, before),
    );
    let comment_error = Signal::derive(move || add.value().get().and_then(Result::err));

    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(view) => view! { <Article view add delete like comment_error/> }.into_any(),
                    Err(e) if e.code == ErrorCode::NotFound => view! { <NotFound/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Article(
    view: PostView,
    add: ServerAction<AddComment>,
    delete: ServerAction<DeleteComment>,
    like: ServerAction<SetLike>,
    comment_error: Signal<Option<crate::models::AppError>>,
) -> impl IntoView {
    let PostView { post, html, stats, comments, viewer_id, viewer_is_admin } = view;
    let post_id = post.id;
    let date = post.published_at.unwrap_or(post.created_at).format("%Y-%m-%d").to_string();
    let description: String = post.body.chars().take(160).collect();
    let login_href = format!("/login?next={}", Url::escape(&format!("/posts/{}", post.slug)));
    // New comments by anyone arrive over the post's event stream; the list then reloads
    // (into a signal: the page as rendered on the server stays what hydration expects).
    let fresh = RwSignal::new(None::<CommentWindow>);
    let before = use_query_map().read_untracked().get("before");
    let viewing_older = before.is_some();
    use_event_stream(format!("/api/v1/posts/{post_id}/events"), &["comment.created"], move |_, _| {
        let before = before.clone();
        leptos::task::spawn_local(async move {
            if let Ok(window) = post_comments(post_id, before).await {
                fresh.set(Some(window));
            }
        });
    });
    let initial = StoredValue::new(comments);
    let slug = post.slug.clone();

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
                Some(_) => view! {
                    <ActionForm action=like attr:class="inline-form like-form">
                        <input type="hidden" name="post_id" value=post_id/>
                        <input type="hidden" name="liked" value=(!stats.liked_by_me).to_string()/>
                        <button type="submit" data-testid="like-button" disabled=move || like.pending().get()>
                            {if stats.liked_by_me { "♥ Liked" } else { "♡ Like" }} " · " <span data-testid="like-count">{stats.likes}</span>
                        </button>
                    </ActionForm>
                }.into_any(),
                None => view! { <p class="muted">"♥ " <span data-testid="like-count">{stats.likes}</span> " likes"</p> }.into_any(),
            }}
        </article>
        <section class="card comments" id="comments">
            {move || {
                let window = fresh.get().unwrap_or_else(|| initial.get_value());
                view! { <CommentList window slug=slug.clone() viewing_older viewer_id viewer_is_admin delete/> }
            }}
            {match viewer_id {
                Some(_) => view! {
                    <FormError error=comment_error/>
                    <ActionForm action=add attr:class="form" attr:id="comment-form">
                        <input type="hidden" name="post_id" value=post_id/>
                        <label for="comment-body">"Add a comment"</label>
                        <textarea id="comment-body" name="body" rows="3" required maxlength="5000"></textarea>
                        <FieldError error=comment_error field="body"/>
                        <button type="submit" disabled=move || add.pending().get()>
                            {move || if add.pending().get() { "Posting…" } else { "Post comment" }}
                        </button>
                    </ActionForm>
                }.into_any(),
                None => view! { <p><A href=login_href>"Sign in to comment"</A></p> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn CommentList(
    window: CommentWindow,
    slug: String,
    viewing_older: bool,
    viewer_id: Option<i64>,
    viewer_is_admin: bool,
    delete: ServerAction<DeleteComment>,
) -> impl IntoView {
    let CommentWindow { items, total, older } = window;
    let older_href = older.map(|c| format!("/posts/{slug}?before={}#comments", Url::escape(&c)));
    let newest_href = format!("/posts/{slug}#comments");
    view! {
        <h2>"Comments (" <span data-testid="comment-count">{total}</span> ")"</h2>
        {older_href.map(|href| view! {
            <p><A href=href attr:data-testid="older-comments">"Older comments"</A></p>
        })}
        <ul class="comment-list" data-testid="comment-list">
            {items
                .into_iter()
                .map(|c| {
                    let mine = viewer_id == Some(c.author_id) || viewer_is_admin;
                    view! {
                        <li class="comment" id=format!("comment-{}", c.id)>
                            <p class="meta">{c.author_name.clone()} " · " {c.created_at.format("%Y-%m-%d %H:%M").to_string()}</p>
                            <p class="comment-body">{c.body.clone()}</p>
                            {mine.then(|| view! {
                                <ActionForm action=delete attr:class="inline-form">
                                    <input type="hidden" name="id" value=c.id/>
                                    <button type="submit" class="link-button" disabled=move || delete.pending().get()>"Delete"</button>
                                </ActionForm>
                            })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        {viewing_older.then(|| view! { <p><A href=newest_href>"Newest comments"</A></p> })}
    }
}
