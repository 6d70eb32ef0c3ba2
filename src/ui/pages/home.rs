//! `/`: published posts, newest first, with search, category and tag filters and
//! keyset pagination. The filter form is a plain GET form, so it works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{hooks::use_query_map, location::Url};

use crate::{
    models::{post::PostCard as Card, time, Category},
    server_fns::posts::list_posts,
    ui::load::resource,
};

#[component]
pub fn HomePage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).unwrap_or_default();
    let posts =
        resource(move || query.get(), |q| list_posts(q.get("q"), q.get("category"), q.get("tag"), q.get("cursor")));

    view! {
        <Title text=""/>
        <section class="intro">
            <h1>"Latest posts"</h1>
            <form method="get" action="/" class="filters" role="search">
                <input type="search" name="q" placeholder="Search posts" aria-label="Search posts" value=move || param("q")/>
                <select name="category" aria-label="Category">
                    <option value="">"All categories"</option>
                    {Category::ALL
                        .into_iter()
                        .map(|c| view! { <option value=c.as_str() selected=move || param("category") == c.as_str()>{c.as_str()}</option> })
                        .collect_view()}
                </select>
                <input type="text" name="tag" placeholder="Tag" aria-label="Tag" value=move || param("tag")/>
                <button type="submit">"Filter"</button>
            </form>
        </section>
        // A Suspend, not a closure: see `ui::load`.
        <Suspense fallback=|| view! { <p class="muted">"Loading posts…"</p> }>
            {Suspend::new(async move {
                match posts.await {
                    Ok(list) if list.items.is_empty() => view! { <p class="muted" data-testid="no-posts">"No posts yet."</p> }.into_any(),
                    Ok(list) => {
                        let next = list.next_cursor.map(|c| {
                            let mut href = format!("/?cursor={}", Url::escape(&c));
                            for k in ["category", "tag"] {
                                let v = param(k);
                                if !v.is_empty() {
                                    href.push_str(&format!("&{k}={}", Url::escape(&v)));
                                }
                            }
                            view! { <p class="pager"><a href=href>"Older posts →"</a></p> }
                        });
                        // The cards are static HTML: rendered straight into one string, then set as
                        // the list's content. Inside Suspense, tachys' streaming renderer allocates
                        // two strings per element, which for 20 cards was most of the page's cost.
                        let cards = list.items.into_iter().map(|p| view! { <PostCard post=p/> }).collect_view().to_html();
                        view! {
                            <ul class="post-list" inner_html=cards></ul>
                            {next}
                        }
                        .into_any()
                    }
                    Err(e) => view! { <p class="form-error" role="alert">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn PostCard(post: Card) -> impl IntoView {
    let date = post.published_at.as_ref().map(time::day).unwrap_or_default();
    view! {
        <li class="card post-card">
            <h2><a href=format!("/posts/{}", post.slug)>{post.title}</a></h2>
            <p class="meta">
                <span>{post.author_name}</span> " · " <time>{date}</time> " · "
                <a href=format!("/?category={}", post.category.as_str())>{post.category.as_str()}</a>
            </p>
            <p class="tags">
                {post.tags.iter().map(|t| view! { <a class="tag" href=format!("/?tag={}", Url::escape(t))>{format!("#{t}")}</a> }).collect_view()}
            </p>
        </li>
    }
}
