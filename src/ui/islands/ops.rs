//! The live operations dashboard's charts: one small SVG line per number (no chart library, no
//! CDN). Rendered on the server with the last two minutes (a static snapshot without
//! JavaScript); hydrated, each chart moves once a second as points arrive over the event stream.

use leptos::prelude::*;

use crate::{
    models::ops::{OpsPoint, OpsSnapshot, Series, HISTORY, SERIES},
    ui::browser::use_event_stream,
};

const WIDTH: f64 = 240.0;
const HEIGHT: f64 = 60.0;

#[island(lazy)]
pub fn OpsCharts(initial: OpsSnapshot) -> impl IntoView {
    crate::ui::browser::island_ready();
    let points = RwSignal::new(initial.points);
    use_event_stream("/api/v1/admin/ops/events".to_string(), &["ops"], move |_, data| {
        if let Ok(p) = serde_json::from_str::<OpsPoint>(&data) {
            points.update(|v| {
                v.push(p);
                if v.len() > HISTORY {
                    v.remove(0);
                }
            });
        }
    });
    view! {
        <div class="ops-grid" data-testid="ops-charts">
            {SERIES.iter().map(|s| view! { <Chart series=*s points/> }).collect_view()}
        </div>
    }
}

#[component]
fn Chart(series: Series, points: RwSignal<Vec<OpsPoint>>) -> impl IntoView {
    let values = move || points.with(|v| v.iter().map(series.value).collect::<Vec<f64>>());
    let latest = move || points.with(|v| v.last().map(series.value).unwrap_or(0.0));
    let at = move || points.with(|v| v.last().map_or(0, |p| p.at_ms)).to_string();
    view! {
        <figure class="chart" data-series=series.id data-latest=move || format!("{:.3}", latest()) data-at=at>
            <figcaption>
                <span>{series.title}</span>
                <strong>{move || format_value(latest())} " " {series.unit}</strong>
            </figcaption>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") preserveAspectRatio="none" role="img" aria-label=series.title>
                <polyline points=move || polyline(&values()) fill="none" stroke="currentColor" stroke-width="1.5"/>
            </svg>
        </figure>
    }
}

/// The line's points, newest at the right edge, scaled to the largest value shown.
fn polyline(values: &[f64]) -> String {
    let max = values.iter().copied().fold(0.0_f64, f64::max).max(1e-9);
    let step = WIDTH / (HISTORY.max(2) - 1) as f64;
    let offset = HISTORY.saturating_sub(values.len());
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x = (offset + i) as f64 * step;
            let y = HEIGHT - 2.0 - (v / max) * (HEIGHT - 4.0);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn format_value(v: f64) -> String {
    if v >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
