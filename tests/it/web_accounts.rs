//! Accounts in the web UI: server functions over HTTP through the real router,
//! sessions and their cookie, protected pages, and forms without JavaScript.

use crate::common;

use axum::http::StatusCode;
use common::{TestApp, TestResponse};
use quire::{
    models::{validation::NewAccount, Role},
    services::accounts,
};

const REGISTER: &str = "/fn/register";
const LOGIN: &str = "/fn/login";
const LOGOUT: &str = "/fn/logout";

fn field_messages(res: &TestResponse) -> Vec<String> {
    res.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

async fn registration_rules_are_enforced_field_by_field(app: TestApp) {
    let mut c = app.client();
    let res =
        c.call_fn(REGISTER, &[("email", "not-an-email"), ("name", ""), ("password", "short"), ("next", "")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.json()["code"], "VALIDATION_ERROR");
    assert_eq!(field_messages(&res), ["email", "name", "password"]);

    let ok = c
        .call_fn(
            REGISTER,
            &[("email", "Ada@Example.com"), ("name", "Ada"), ("password", "correct horse"), ("next", "")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());

    // The same e-mail in another case is taken.
    let mut other = app.client();
    let taken = other
        .call_fn(REGISTER, &[("email", "ADA@example.COM"), ("name", "Eve"), ("password", "another pass"), ("next", "")])
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_messages(&taken), ["email"]);
    assert!(taken.json()["errors"][0]["message"].as_str().unwrap().contains("already exists"));
}

async fn registering_signs_in_with_a_safe_session_cookie(app: TestApp) {
    let mut c = app.client();
    let res = c
        .call_fn(
            REGISTER,
            &[("email", "grace@example.com"), ("name", "Grace"), ("password", "hopper1906"), ("next", "/dashboard")],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.header("location"), Some("/dashboard"));
    let cookie = res.header("set-cookie").expect("session cookie");
    assert!(cookie.starts_with("quire_session="));
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(cookie.contains("Path=/"));
    assert!(!cookie.contains("Secure"), "Secure only when configured");

    let me = c.get("/api/v1/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["email"], "grace@example.com");
    assert!(me.json().get("password_hash").is_none());
}

async fn signing_in_cycles_the_session_id_and_signing_out_destroys_it(app: TestApp) {
    common::register(&app, "linus@example.com", "Linus", "penguins rule").await;
    let mut c = app.client();
    let first = c.call_fn(LOGIN, &[("email", "linus@example.com"), ("password", "penguins rule"), ("next", "")]).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let first_cookie = c.cookie.clone().expect("cookie after login");

    // Signing in again on the same session issues a new id; the old one is dead.
    let second = c.call_fn(LOGIN, &[("email", "linus@example.com"), ("password", "penguins rule"), ("next", "")]).await;
    assert_eq!(second.status, StatusCode::OK);
    let second_cookie = c.cookie.clone().expect("cookie after second login");
    assert_ne!(first_cookie, second_cookie);
    let mut stale = app.client();
    stale.cookie = Some(first_cookie);
    assert_eq!(stale.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);

    let out = c.call_fn(LOGOUT, &[]).await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(out.header("set-cookie").is_some_and(|s| s.contains("Max-Age=0")), "cookie cleared");
    let mut replay = app.client();
    replay.cookie = Some(second_cookie);
    assert_eq!(replay.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED, "the session is gone from the store");
}

async fn a_failed_login_does_not_reveal_whether_the_email_exists(app: TestApp) {
    common::register(&app, "known@example.com", "Known", "right password").await;
    let mut c = app.client();
    let wrong_password =
        c.call_fn(LOGIN, &[("email", "known@example.com"), ("password", "wrong password"), ("next", "")]).await;
    let unknown_email =
        c.call_fn(LOGIN, &[("email", "nobody@example.com"), ("password", "wrong password"), ("next", "")]).await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.status, unknown_email.status);
    assert_eq!(wrong_password.json(), unknown_email.json());
    assert!(c.cookie.is_none(), "no session for a failed login");
}

/// The header asks who is signed in only when the request has a session cookie: without one it
/// offers Sign in; with a cookie that names no session, the same (and guarded pages redirect);
/// with a real one, the reader's name and Sign out.
async fn the_header_knows_who_is_signed_in(app: TestApp) {
    let mut anonymous = app.client();
    let page = anonymous.get_page("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("href=\"/login\">Sign in"), "{}", page.text());
    assert!(!page.text().contains("data-testid=\"current-user\""));

    let mut stale = app.client();
    stale.cookie = Some("quire_session=no-such-session".into());
    let page = stale.get_page("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("href=\"/login\">Sign in"));
    assert!(!page.text().contains("Sign out"));
    let guarded = stale.get_page("/settings").await;
    assert_eq!(guarded.status, StatusCode::FOUND);
    assert_eq!(guarded.header("location"), Some("/login?next=%2Fsettings"));

    let mut reader = common::browser(&app, "header@example.com").await;
    let page = reader.get_page("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("data-testid=\"current-user\""));
    assert!(page.text().contains("class=\"who\">header"), "{}", page.text());
    assert!(page.text().contains("Sign out"));
    assert!(!page.text().contains("href=\"/login\">Sign in"));
}

async fn the_dashboard_sends_visitors_to_login_and_back(app: TestApp) {
    let mut c = app.client();
    let res = c.get_page("/dashboard").await;
    assert_eq!(res.status, StatusCode::FOUND);
    assert_eq!(res.header("location"), Some("/login?next=%2Fdashboard"));

    common::register(&app, "back@example.com", "Back Again", "round trip!").await;
    let login = c
        .submit_form(
            LOGIN,
            "/login?next=%2Fdashboard",
            &[("email", "back@example.com"), ("password", "round trip!"), ("next", "/dashboard")],
        )
        .await;
    assert_eq!(login.status, StatusCode::FOUND);
    assert_eq!(login.header("location"), Some("/dashboard"));
    let page = c.get_page("/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Back Again"));
}

async fn next_accepts_only_same_site_paths(app: TestApp) {
    common::register(&app, "n@example.com", "N", "password123").await;
    for evil in ["https://evil.example/x", "//evil.example", "/\\evil.example"] {
        let mut c = app.client();
        let res = c.call_fn(LOGIN, &[("email", "n@example.com"), ("password", "password123"), ("next", evil)]).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.header("location"), Some("/dashboard"), "next={evil}");
    }
}

async fn admin_pages_answer_403_to_non_admins(app: TestApp) {
    common::register(&app, "user@example.com", "User", "password123").await;
    let admin = NewAccount::parse("root@example.com", "Root", "password123").unwrap();
    accounts::register(app.db(), admin, Role::Admin).await.unwrap();

    let mut user = app.client();
    user.call_fn(LOGIN, &[("email", "user@example.com"), ("password", "password123"), ("next", "")]).await;
    let res = user.get_page("/admin").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.text().contains("not allowed"));

    let mut root = app.client();
    root.call_fn(LOGIN, &[("email", "root@example.com"), ("password", "password123"), ("next", "")]).await;
    let res = root.get_page("/admin").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.text().contains("Administration"));

    let anonymous = app.client().get_page("/admin").await;
    assert_eq!(anonymous.status, StatusCode::FOUND);
}

async fn forms_work_without_javascript(app: TestApp) {
    let mut c = app.client();
    let bad = c
        .submit_form(REGISTER, "/register", &[("email", "nope"), ("name", "Ann"), ("password", "x"), ("next", "")])
        .await;
    assert_eq!(bad.status, StatusCode::FOUND);
    let back = bad.header("location").unwrap().to_string();
    assert!(back.starts_with("http://quire.test/register?"), "{back}");
    let page = c.get_page(back.trim_start_matches("http://quire.test")).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Enter a valid email address"), "email error shown");
    assert!(html.contains("Use a password between 8 and 128 characters"), "password error shown");

    let ok = c
        .submit_form(
            REGISTER,
            "/register",
            &[("email", "ann@example.com"), ("name", "Ann"), ("password", "long enough"), ("next", "")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::FOUND);
    assert_eq!(ok.header("location"), Some("/dashboard"));
    assert!(c.get_page("/dashboard").await.text().contains("Ann"));

    let out = c.submit_form(LOGOUT, "/dashboard", &[]).await;
    assert_eq!(out.status, StatusCode::FOUND);
    assert_eq!(out.header("location"), Some("/"));
    assert_eq!(c.get_page("/dashboard").await.status, StatusCode::FOUND);
}

async fn cross_site_server_function_posts_are_refused(app: TestApp) {
    common::register(&app, "victim@example.com", "Victim", "password123").await;
    let mut c = app.client();
    let res = c
        .request(common::RequestSpec {
            method: axum::http::Method::POST,
            path: LOGIN.into(),
            headers: vec![
                ("content-type".into(), "application/x-www-form-urlencoded".into()),
                ("origin".into(), "http://evil.example".into()),
            ],
            body: common::encode_form(&[("email", "victim@example.com"), ("password", "password123")]).into(),
        })
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(c.cookie.is_none());
}

async fn pages_carry_security_headers_and_unknown_pages_are_real_404s(app: TestApp) {
    let mut c = app.client();
    let home = c.get_page("/").await;
    assert_eq!(home.status, StatusCode::OK);
    let csp = home.header("content-security-policy").expect("CSP").to_string();
    let nonce = csp.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("nonce in CSP").to_string();
    assert!(home.text().contains(&format!("nonce=\"{nonce}\"")), "hydration script carries the nonce");
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(home.header("x-frame-options"), Some("DENY"));
    assert_eq!(home.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(home.header("referrer-policy"), Some("strict-origin-when-cross-origin"));

    let missing = c.get_page("/no/such/page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.header("content-type").unwrap().starts_with("text/html"));
    assert!(missing.text().contains("Page not found"));
}

on_both_databases!(
    registration_rules_are_enforced_field_by_field,
    registering_signs_in_with_a_safe_session_cookie,
    signing_in_cycles_the_session_id_and_signing_out_destroys_it,
    a_failed_login_does_not_reveal_whether_the_email_exists,
    the_dashboard_sends_visitors_to_login_and_back,
    the_header_knows_who_is_signed_in,
    next_accepts_only_same_site_paths,
    admin_pages_answer_403_to_non_admins,
    forms_work_without_javascript,
    cross_site_server_function_posts_are_refused,
    pages_carry_security_headers_and_unknown_pages_are_real_404s,
);

#[tokio::test]
async fn the_session_cookie_is_secure_when_configured() {
    let app = TestApp::sqlite_with(&[("QUIRE_COOKIE_SECURE", "true")]).await;
    let mut c = app.client();
    let res = c
        .call_fn(REGISTER, &[("email", "s@example.com"), ("name", "S"), ("password", "password123"), ("next", "")])
        .await;
    assert!(res.header("set-cookie").unwrap().contains("Secure"));
}
