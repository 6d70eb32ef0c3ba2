//! How pages load their data: a Resource whose future is boxed. A server function's future is
//! several kB and a Resource moves it about a dozen times before it first runs; boxed, it moves
//! as a pointer (callgrind: ~10 % of a rendered front page's instructions).
//!
//! Pages hand the loaded data to `Suspense` as `{Suspend::new(async move { … })}`, not as a
//! closure returning a Suspend: pages render once, on the server, and Suspense calls a closure
//! again each time it checks for pending loads, building the view (and any resources it makes)
//! again.

use std::future::Future;

use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

/// `Resource::new(source, fetcher)` with `fetcher`'s future boxed.
pub fn resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new(source, move |s| Box::pin(fetcher(s)))
}
