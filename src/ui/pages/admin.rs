//! `/admin`: administrators only (403 for everyone else). Webhook deliveries and background
//! jobs with their status, attempts and last error (a failed one can be retried), users
//! (search, role) and the audit log. Every action is a server function and works without
//! JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    models::{time, AdminOverview, DeliveryStatus, JobStatus, Role},
    server_fns::admin::{admin_data, RetryJob, RetryWebhook, SetRole},
    ui::components::{forms::FormError, guard::RequireUser},
    ui::load::resource,
};

#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <Title text="Admin"/>
        <RequireUser admin=true view=|_user| view! { <Admin/> }/>
    }
}

fn when(t: time::DateTime<time::Utc>) -> String {
    time::second(&t)
}

#[component]
fn Admin() -> impl IntoView {
    let query = use_query_map();
    let retry_job = ServerAction::<RetryJob>::new();
    let retry_webhook = ServerAction::<RetryWebhook>::new();
    let set_role = ServerAction::<SetRole>::new();
    let data = resource(
        move || {
            (
                query.read().get("q").unwrap_or_default(),
                retry_job.version().get(),
                retry_webhook.version().get(),
                set_role.version().get(),
            )
        },
        |(q, ..)| admin_data(q),
    );
    let action_error = Signal::derive(move || {
        retry_job
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| retry_webhook.value().get().and_then(Result::err))
            .or_else(|| set_role.value().get().and_then(Result::err))
    });
    view! {
        <h1>"Administration"</h1>
        <p><a href="/admin/ops" data-testid="ops-link">"Live operations"</a></p>
        <FormError error=action_error/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {Suspend::new(async move {
                match data.await {
                    Ok(o) => view! { <Overview o retry_job retry_webhook set_role/> }.into_any(),
                    Err(e) => view! { <p class="form-error">{e.message}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Overview(
    o: AdminOverview,
    retry_job: ServerAction<RetryJob>,
    retry_webhook: ServerAction<RetryWebhook>,
    set_role: ServerAction<SetRole>,
) -> impl IntoView {
    let AdminOverview { webhook_events, jobs, users, audit, queue_depth } = o;
    view! {
        <section class="card" aria-labelledby="webhooks-heading">
            <h2 id="webhooks-heading">"Webhook events"</h2>
            {if webhook_events.is_empty() { Some(view! { <p class="muted">"No deliveries yet."</p> }) } else { None }}
            <div class="table-wrap">
            <table data-testid="webhook-events">
                <thead><tr><th>"Received"</th><th>"Source"</th><th>"Event"</th><th>"Status"</th><th>"Attempts"</th><th>"Last error"</th><th></th></tr></thead>
                <tbody>
                    {webhook_events.into_iter().map(|e| view! {
                        <tr data-status=e.status.as_str()>
                            <td>{when(e.received_at)}</td>
                            <td>{e.source.clone()}</td>
                            <td><code>{e.kind.clone()}</code> <span class="muted">" " {e.external_id.clone()}</span></td>
                            <td><span class=format!("status status-{}", e.status)>{e.status.as_str()}</span></td>
                            <td>{e.attempts}</td>
                            <td class="error-cell">{e.last_error.clone().unwrap_or_default()}</td>
                            <td>{(e.status == DeliveryStatus::Failed).then(|| view! {
                                <ActionForm action=retry_webhook attr:class="inline-form">
                                    <input type="hidden" name="id" value=e.id/>
                                    <button type="submit" class="link-button">"Retry"</button>
                                </ActionForm>
                            })}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        </section>
        <section class="card" aria-labelledby="jobs-heading">
            <h2 id="jobs-heading">"Jobs " <span class="muted">"(" {queue_depth} " queued or running)"</span></h2>
            <div class="table-wrap">
            <table data-testid="jobs">
                <thead><tr><th>"Id"</th><th>"Kind"</th><th>"Status"</th><th>"Attempts"</th><th>"Next run"</th><th>"Last error"</th><th></th></tr></thead>
                <tbody>
                    {jobs.into_iter().map(|j| view! {
                        <tr data-status=j.status.as_str()>
                            <td>{j.id}</td>
                            <td><code>{j.kind.clone()}</code></td>
                            <td><span class=format!("status status-{}", j.status)>{j.status.as_str()}</span></td>
                            <td>{j.attempts} " / " {j.max_attempts}</td>
                            <td>{when(j.run_at)}</td>
                            <td class="error-cell">{j.last_error.clone().unwrap_or_default()}</td>
                            <td>{(j.status == JobStatus::Failed).then(|| view! {
                                <ActionForm action=retry_job attr:class="inline-form">
                                    <input type="hidden" name="id" value=j.id/>
                                    <button type="submit" class="link-button">"Retry"</button>
                                </ActionForm>
                            })}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        </section>
        <section class="card" aria-labelledby="users-heading">
            <h2 id="users-heading">"Users"</h2>
            <form method="get" action="/admin" class="inline-form">
                <input type="search" name="q" placeholder="Name or e-mail" aria-label="Search users"/>
                <button type="submit" class="button small">"Search"</button>
            </form>
            <div class="table-wrap">
            <table data-testid="users">
                <thead><tr><th>"Name"</th><th>"E-mail"</th><th>"Plan"</th><th>"Role"</th></tr></thead>
                <tbody>
                    {users.into_iter().map(|u| {
                        let other = if u.role == Role::Admin { Role::User } else { Role::Admin };
                        view! {
                            <tr>
                                <td>{u.name.clone()}</td>
                                <td>{u.email.clone()}</td>
                                <td>{u.plan.as_str()}</td>
                                <td>
                                    {u.role.as_str()} " "
                                    <ActionForm action=set_role attr:class="inline-form">
                                        <input type="hidden" name="id" value=u.id/>
                                        <input type="hidden" name="role" value=other.as_str()/>
                                        <button type="submit" class="link-button">{format!("make {}", other.as_str())}</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        </section>
        <section class="card" aria-labelledby="audit-heading">
            <h2 id="audit-heading">"Audit log"</h2>
            <div class="table-wrap">
            <table data-testid="audit">
                <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Entity"</th><th>"Detail"</th></tr></thead>
                <tbody>
                    {audit.into_iter().map(|a| view! {
                        <tr>
                            <td>{when(a.created_at)}</td>
                            <td>{a.actor_name.clone().unwrap_or_else(|| "system".into())}</td>
                            <td><code>{a.action.clone()}</code></td>
                            <td>{format!("{} {}", a.entity_type, a.entity_id)}</td>
                            <td><code class="detail">{a.detail.clone()}</code></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            </div>
        </section>
    }
}
