//! A report export's form, its streamed progress and the recent exports.

use leptos::{prelude::*, server_fn::ServerFn};

use crate::{
    models::{time, AppError, ReportInfo, ReportStatus},
    server_fns::reports::{my_reports, ExportReport},
    ui::{
        browser::{navigate, post_event_stream},
        components::forms::FormError,
    },
};

#[derive(Clone, Debug, PartialEq)]
enum Run {
    Idle,
    Running(u8),
    Done(ReportInfo),
    Failed(String),
}

/// The export form and the recent exports (`reports`, as rendered): with JavaScript the
/// export's progress streams into a live bar, the file downloads when ready and the list
/// refreshes; without it, the form's server function runs the export and the page comes back.
#[island(lazy)]
pub fn Exporter(is_admin: bool, reports: Vec<ReportInfo>) -> impl IntoView {
    crate::ui::browser::island_ready();
    let export = ServerAction::<ExportReport>::new();
    let export_error = Signal::derive(move || export.value().get().and_then(Result::<ReportInfo, AppError>::err));
    let run = RwSignal::new(Run::Idle);
    let list = RwSignal::new(reports);
    let reload = move || {
        leptos::task::spawn_local(async move {
            if let Ok(items) = my_reports().await {
                list.set(items);
            }
        });
    };
    let kind = RwSignal::new("my_posts".to_string());
    let format = RwSignal::new("csv".to_string());
    let from = RwSignal::new(String::new());
    let to = RwSignal::new(String::new());

    // With JavaScript: stream the export's progress instead of waiting for the whole thing.
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if matches!(run.get_untracked(), Run::Running(_)) {
            return;
        }
        run.set(Run::Running(0));
        let opt = |s: String| if s.trim().is_empty() { serde_json::Value::Null } else { serde_json::Value::String(s) };
        let body = serde_json::json!({
            "kind": kind.get_untracked(), "format": format.get_untracked(),
            "from": opt(from.get_untracked()), "to": opt(to.get_untracked()),
        });
        post_event_stream(
            "/api/v1/reports",
            body.to_string(),
            move |name, data| {
                let v: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
                match name.as_str() {
                    "complete" => {
                        if let Some(report) =
                            v.get("report").cloned().and_then(|r| serde_json::from_value::<ReportInfo>(r).ok())
                        {
                            navigate(&report.download_url);
                            run.set(Run::Done(report));
                            reload();
                        }
                    }
                    "error" => run.set(Run::Failed(v["error"].as_str().unwrap_or("The export failed.").to_string())),
                    _ => {
                        let p = v["progress"].as_u64().unwrap_or(0).min(100) as u8;
                        run.set(Run::Running(p));
                    }
                }
            },
            move |status, text| {
                if status >= 400 || status == 0 {
                    let detail = serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v["detail"].as_str().map(str::to_string))
                        .unwrap_or_else(|| "The export could not start.".to_string());
                    run.set(Run::Failed(detail));
                } else if matches!(run.get_untracked(), Run::Running(_)) {
                    run.set(Run::Failed("The export stopped before it finished.".into()));
                }
            },
        );
    };

    view! {
        <section class="card">
            <h1>"Reports"</h1>
            <p class="muted">"Export your posts (or, as an administrator, the site's activity per day) as CSV or JSON."</p>
            <form method="post" action=ExportReport::url() class="stack" data-testid="report-form" on:submit=on_submit>
                <FormError error=export_error/>
                <label>"What"
                    <select name="kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="my_posts" selected>"My posts"</option>
                        {is_admin.then(|| view! { <option value="site_stats">"Site statistics"</option> })}
                    </select>
                </label>
                <label>"Format"
                    <select name="format" on:change=move |ev| format.set(event_target_value(&ev))>
                        <option value="csv" selected>"CSV"</option>
                        <option value="json">"JSON"</option>
                    </select>
                </label>
                <div class="inline">
                    <label>"From " <input type="date" name="from" on:change=move |ev| from.set(event_target_value(&ev))/></label>
                    <label>"To " <input type="date" name="to" on:change=move |ev| to.set(event_target_value(&ev))/></label>
                </div>
                <button type="submit" data-testid="export" disabled=move || matches!(run.get(), Run::Running(_))>"Export"</button>
            </form>
            {move || match run.get() {
                Run::Idle => ().into_any(),
                Run::Running(p) => view! {
                    <div class="progress" role="status">
                        <progress max="100" value=p data-testid="report-progress"></progress>
                        <span data-testid="report-percent">{p} "%"</span>
                    </div>
                }.into_any(),
                Run::Done(r) => view! {
                    <div class="progress" role="status">
                        <progress max="100" value="100" data-testid="report-progress"></progress>
                        <span data-testid="report-percent">"100%"</span>
                        <p>{r.row_count} " rows · " <a href=r.download_url.clone() data-testid="report-download" download=r.file_name.clone()>{r.file_name.clone()}</a></p>
                    </div>
                }.into_any(),
                Run::Failed(msg) => view! { <p class="form-error" role="alert">{msg}</p> }.into_any(),
            }}
        </section>
        <section class="card">
            <h2>"Recent exports"</h2>
            {move || {
                let items = list.get();
                if items.is_empty() {
                    return view! { <p class="muted">"No exports yet."</p> }.into_any();
                }
                view! {
                    <table data-testid="report-list">
                        <thead><tr><th>"Created"</th><th>"What"</th><th>"Rows"</th><th>"Status"</th><th></th></tr></thead>
                        <tbody>
                            {items.into_iter().map(|r| view! {
                                <tr>
                                    <td>{time::minute(&r.created_at)}</td>
                                    <td>{r.kind.as_str()} " · " {r.format.as_str()}</td>
                                    <td>{r.row_count}</td>
                                    <td>{r.status.as_str()}</td>
                                    <td>{(r.status == ReportStatus::Complete).then(|| view! { <a href=r.download_url.clone() download=r.file_name.clone()>"Download"</a> })}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}
