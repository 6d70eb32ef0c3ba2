//! The web UI: the HTML shell, the router and its pages. Pages read through Resources
//! backed by server functions and render on the server; only the islands (`islands/`)
//! hydrate in the browser, so the bundle holds them alone and everything else is HTML.

pub mod browser;
pub mod components;
pub mod islands;
pub mod load;
pub mod pages;
pub mod session;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use components::header::Header;
use pages::{
    admin::AdminPage,
    dashboard::DashboardPage,
    editor::{EditPostPage, NewPostPage},
    home::HomePage,
    login::LoginPage,
    not_found::NotFound,
    notifications::NotificationsPage,
    ops::OpsPage,
    post::PostPage,
    register::RegisterPage,
    reports::ReportsPage,
    settings::SettingsPage,
};

/// The HTML document around the app. Only the server renders it; it also sets the page's
/// Content-Security-Policy with this response's nonce.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use leptos::nonce::use_nonce;
    if let (Some(nonce), Some(res)) = (use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        if let Ok(v) = axum::http::HeaderValue::from_str(&crate::middleware::security_headers::page_csp(&nonce)) {
            res.insert_header(axum::http::HeaderName::from_static("content-security-policy"), v);
        }
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                <leptos_meta::MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    session::provide_session();

    view! {
        <Stylesheet id="leptos" href="/pkg/quire.css"/>
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Title formatter=|text: String| if text.is_empty() { "Quire".to_string() } else { format!("{text} · Quire") }/>
        <Meta name="description" content="Quire: a self-hostable publishing platform."/>
        // Every route renders fully on the server before the response starts (Async): forms
        // and redirects then work without JavaScript, and the header knows who is signed in.
        <Router>
            <Header/>
            <main class="container">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/posts/:slug") view=PostPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/register") view=RegisterPage ssr=SsrMode::Async/>
                    <Route path=path!("/dashboard") view=DashboardPage ssr=SsrMode::Async/>
                    <Route path=path!("/dashboard/posts/new") view=NewPostPage ssr=SsrMode::Async/>
                    <Route path=path!("/dashboard/posts/:id/edit") view=EditPostPage ssr=SsrMode::Async/>
                    <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view=AdminPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/ops") view=OpsPage ssr=SsrMode::Async/>
                    <Route path=path!("/notifications") view=NotificationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/reports") view=ReportsPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            <footer class="site-footer container">
                <span>"Quire " {env!("CARGO_PKG_VERSION")}</span>
                <a href="/api/v1/health" rel="external">"API status"</a>
            </footer>
        </Router>
    }
}
