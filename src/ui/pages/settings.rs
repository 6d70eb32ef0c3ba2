//! `/settings`: the account, and personal access tokens for the API (create: the secret
//! is shown once; revoke). Forms are server actions and work without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    models::{time, ApiToken, User},
    server_fns::{
        account::{my_billing, ChangePassword, UpdateProfile},
        tokens::{my_tokens, CreateToken, RevokeToken, TokenFlash},
    },
    ui::components::{
        forms::{FieldError, FormError},
        guard::RequireUser,
    },
    ui::load::resource,
};

#[component]
pub fn SettingsPage() -> impl IntoView {
    // One per page render, above the guard (which may build its content more than once).
    provide_context(TokenFlash::default());
    view! {
        <Title text="Settings"/>
        <RequireUser view=|user| view! { <Settings user/> }/>
    }
}

#[component]
fn Settings(user: User) -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let manager = resource(move || (create.version().get(), revoke.version().get()), |_| my_tokens());
    let create_error = Signal::derive(move || create.value().get().and_then(Result::err));
    let revoke_error = Signal::derive(move || revoke.value().get().and_then(Result::err));

    let profile = ServerAction::<UpdateProfile>::new();
    let profile_error = Signal::derive(move || profile.value().get().and_then(Result::err));
    let saved = move || matches!(profile.value().get(), Some(Ok(())));
    let billing = resource(|| (), |_| my_billing());
    let password = ServerAction::<ChangePassword>::new();
    let password_error = Signal::derive(move || password.value().get().and_then(Result::err));
    let password_changed = move || matches!(password.value().get(), Some(Ok(())));

    view! {
        <section class="card">
            <h1>"Settings"</h1>
            <dl class="facts">
                <dt>"Email"</dt><dd>{user.email.clone()}</dd>
            </dl>
            <h2>"Profile"</h2>
            <ActionForm action=profile attr:class="stack" attr:data-testid="profile-form">
                <FormError error=Signal::derive(move || profile_error.get().filter(|e| e.errors.is_empty()))/>
                <label>"Name" <input type="text" name="name" required maxlength="100" value=user.name.clone()/></label>
                <FieldError error=profile_error field="name"/>
                <label>"GitHub repository"
                    <input type="text" name="github_repo" placeholder="owner/name" value=user.github_repo.clone().unwrap_or_default()/>
                </label>
                <p class="muted">"A release published there becomes a draft post “Release <tag>” in your dashboard."</p>
                <FieldError error=profile_error field="github_repo"/>
                <button type="submit" disabled=move || profile.pending().get()>"Save profile"</button>
                {move || saved().then(|| view! { <p class="notice" role="status">"Saved."</p> })}
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading">"Password"</h2>
            <ActionForm action=password attr:class="stack" attr:data-testid="password-form">
                <FormError error=Signal::derive(move || password_error.get().filter(|e| e.errors.is_empty()))/>
                <label>"Current password"
                    <input type="password" name="current_password" required autocomplete="current-password"/>
                </label>
                <FieldError error=password_error field="current_password"/>
                <label>"New password"
                    <input type="password" name="new_password" required minlength="8" maxlength="128" autocomplete="new-password"/>
                </label>
                <FieldError error=password_error field="new_password"/>
                <label>"New password, again"
                    <input type="password" name="confirm_password" required minlength="8" maxlength="128" autocomplete="new-password"/>
                </label>
                <FieldError error=password_error field="confirm_password"/>
                <p class="muted">"Changing it signs you out everywhere else."</p>
                <button type="submit" disabled=move || password.pending().get()>"Change password"</button>
                {move || password_changed().then(|| view! {
                    <p class="notice" role="status" data-testid="password-changed">"Password changed. Your other sessions are signed out."</p>
                })}
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="billing-heading">
            <h2 id="billing-heading">"Plan and billing"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {Suspend::new(async move {
                    match billing.await {
                        Ok(b) => view! {
                            <dl class="facts">
                                <dt>"Plan"</dt><dd data-testid="plan">{b.plan.as_str()}</dd>
                                <dt>"Subscription"</dt><dd data-testid="subscription-status">{b.status.clone().unwrap_or_else(|| "none".into())}</dd>
                                {b.current_period_end.as_ref().map(|t| view! { <dt>"Current period ends"</dt><dd>{time::day(t)}</dd> })}
                            </dl>
                            {(b.plan == crate::models::Plan::Free).then(|| view! {
                                <p class="muted">"The free plan allows 3 published posts; Pro has no limit."</p>
                            })}
                            {match (b.plan, b.upgrade_url.clone()) {
                                (crate::models::Plan::Free, Some(url)) => view! { <a class="button" href=url rel="external" data-testid="upgrade">"Upgrade to Pro"</a> }.into_any(),
                                (crate::models::Plan::Free, None) => view! { <p class="muted">"Upgrades are not configured on this server."</p> }.into_any(),
                                _ => ().into_any(),
                            }}
                        }.into_any(),
                        Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <section class="card" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">"API tokens"</h2>
            <p class="muted">
                "Personal access tokens let programs use the "
                <a href="/api/docs">"REST API"</a>
                " as you. Send one as " <code>"Authorization: Bearer <token>"</code> "."
            </p>
            <FormError error=revoke_error/>
            <Suspense fallback=|| view! { <p class="muted">"Loading your tokens…"</p> }>
                {Suspend::new(async move {
                    match manager.await {
                        Ok(m) => view! {
                            {m.created.map(|c| view! {
                                <div class="notice" role="status" data-testid="new-token">
                                    <p><strong>"Copy your new token “" {c.info.name.clone()} "” now."</strong> " It will not be shown again."</p>
                                    <code class="secret" data-testid="new-token-secret">{c.token.clone()}</code>
                                </div>
                            })}
                            <TokenTable tokens=m.tokens revoke/>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                    }
                })}
            </Suspense>
            <h3>"New token"</h3>
            <ActionForm action=create attr:class="stack" attr:data-testid="new-token-form">
                <FormError error=Signal::derive(move || create_error.get().filter(|e| e.errors.is_empty()))/>
                <label>"Name" <input type="text" name="name" required maxlength="100" placeholder="CI deploys"/></label>
                <FieldError error=create_error field="name"/>
                <fieldset class="inline">
                    <legend>"Scopes"</legend>
                    <label><input type="checkbox" name="read" value="on" checked/> " read"</label>
                    <label><input type="checkbox" name="write" value="on"/> " write"</label>
                </fieldset>
                <FieldError error=create_error field="scopes"/>
                <label>"Expires"
                    <select name="expires_in_days">
                        <option value="30">"in 30 days"</option>
                        <option value="90" selected>"in 90 days"</option>
                        <option value="365">"in a year"</option>
                        <option value="">"never"</option>
                    </select>
                </label>
                <FieldError error=create_error field="expires_in_days"/>
                <button type="submit" disabled=move || create.pending().get()>"Create token"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn TokenTable(tokens: Vec<ApiToken>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    if tokens.is_empty() {
        return view! { <p class="muted" data-testid="no-tokens">"No tokens yet."</p> }.into_any();
    }
    let fmt = |t: Option<time::DateTime<time::Utc>>, none: &'static str| {
        t.as_ref().map(time::minute).unwrap_or_else(|| none.to_string())
    };
    view! {
        <table class="tokens" data-testid="token-table">
            <thead><tr><th>"Name"</th><th>"Scopes"</th><th>"Expires"</th><th>"Last used"</th><th></th></tr></thead>
            <tbody>
                {tokens.into_iter().map(|t| {
                    let id = t.id;
                    view! {
                        <tr data-token-id=id>
                            <td>{t.name.clone()}</td>
                            <td>{t.scopes.join(", ")}</td>
                            <td>{fmt(t.expires_at, "never")}</td>
                            <td>{fmt(t.last_used_at, "never")}</td>
                            <td>
                                <ActionForm action=revoke attr:class="inline-form">
                                    <input type="hidden" name="id" value=id/>
                                    <button type="submit" class="link-button danger" disabled=move || revoke.pending().get()>"Revoke"</button>
                                </ActionForm>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
