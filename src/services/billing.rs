//! Plans and subscriptions, as Stripe reports them through its webhook. A subscription that
//! is `active` or `trialing` means `pro`; anything else (or a deleted one) means `free`.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

use super::{events::Bus, notifications};
use crate::{
    config::Config,
    db::{self, Db, Tx},
    error::{Error, Result},
    models::{Billing, NotificationKind, Plan, User},
};

/// The plan a Stripe subscription status grants.
pub fn plan_for(status: &str, deleted: bool) -> Plan {
    match status {
        "active" | "trialing" if !deleted => Plan::Pro,
        _ => Plan::Free,
    }
}

/// A user's billing state, with the upgrade link when one is configured.
/// Records a billing change to `user_id` (no actor: Stripe made it) in the audit log.
async fn audit(tx: &mut Tx, action: &str, user_id: i64, detail: &Value) -> Result<()> {
    super::audit::record(tx, None, action, ("user", user_id), detail).await
}

pub async fn billing(db: &Db, config: &Config, user: &User) -> Result<Billing> {
    let mut conn = db.acquire().await?;
    let row = db::users::billing(conn.conn(), user.id).await?.ok_or_else(|| Error::not_found("No such user."))?;
    let upgrade_url = config.stripe_checkout_url.as_ref().map(|base| {
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}client_reference_id={}", user.id)
    });
    Ok(Billing {
        plan: Plan::parse(&row.plan).unwrap_or_default(),
        customer_linked: row.stripe_customer_id.is_some(),
        status: row.subscription_status,
        current_period_end: row.current_period_end,
        upgrade_url,
    })
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn unix(v: Option<&Value>) -> Option<DateTime<Utc>> {
    v.and_then(Value::as_i64).and_then(|t| Utc.timestamp_opt(t, 0).single())
}

/// Applies one Stripe event. `Ok(true)`: it changed something; `Ok(false)`: nothing to do
/// (or an older event than the state already applied); `Err`: try again later (a
/// subscription for a customer not linked yet, say — Stripe does not promise to deliver
/// `checkout.session.completed` first). Stripe does not deliver in order either: each event's
/// `created` time (or, lacking one, when it was received) orders the states it sets.
pub async fn apply_stripe_event(
    db: &Db,
    bus: &Bus,
    kind: &str,
    event: &Value,
    received_at: DateTime<Utc>,
) -> std::result::Result<bool, String> {
    let object = event.pointer("/data/object").ok_or("event without data.object")?;
    let event_at = unix(event.get("created")).unwrap_or(received_at);
    let r: Result<bool> = match kind {
        "checkout.session.completed" => checkout_completed(db, object).await,
        "customer.subscription.created" | "customer.subscription.updated" | "customer.subscription.deleted" => {
            subscription_changed(db, bus, object, kind.ends_with("deleted"), event_at).await
        }
        "invoice.payment_failed" => payment_failed(db, bus, object, event_at).await,
        _ => Ok(false),
    };
    r.map_err(|e| match e {
        Error::App(a) => a.message,
        Error::Internal(cause) => cause.to_string(),
    })
}

async fn checkout_completed(db: &Db, session: &Value) -> Result<bool> {
    let user_id =
        str_at(session, "/client_reference_id").or_else(|| str_at(session, "/metadata/user_id")).ok_or_else(|| {
            Error::bad_request("checkout session names no user (client_reference_id or metadata.user_id)")
        })?;
    let user_id: i64 = user_id.parse().map_err(|_| Error::bad_request(format!("`{user_id}` is not a user id")))?;
    let customer =
        str_at(session, "/customer").ok_or_else(|| Error::bad_request("checkout session without a customer"))?;
    let mut tx = db.begin().await?;
    if !db::users::link_stripe_customer(tx.conn(), user_id, customer, Utc::now()).await? {
        return Err(Error::not_found(format!("user {user_id} does not exist")));
    }
    let detail = json!({ "customer": customer });
    audit(&mut tx, "billing.link", user_id, &detail).await?;
    tx.commit().await?;
    Ok(true)
}

async fn subscription_changed(db: &Db, bus: &Bus, sub: &Value, deleted: bool, event_at: DateTime<Utc>) -> Result<bool> {
    let customer = str_at(sub, "/customer").ok_or_else(|| Error::bad_request("subscription without a customer"))?;
    let sub_id = str_at(sub, "/id").ok_or_else(|| Error::bad_request("subscription without an id"))?;
    let status = str_at(sub, "/status").ok_or_else(|| Error::bad_request("subscription without a status"))?;
    let status = if deleted && status != "canceled" { "canceled" } else { status };
    // Older API versions carry the period on the subscription, newer ones on its items.
    let period_end =
        unix(sub.get("current_period_end")).or_else(|| unix(sub.pointer("/items/data/0/current_period_end")));
    let plan = plan_for(status, deleted);

    let mut tx = db.begin().await?;
    let user = match db::users::find_by_stripe_customer(tx.conn(), customer).await? {
        Some(u) => u.into_user(),
        None => {
            // A subscription created with metadata.user_id may arrive before the checkout event.
            let by_meta = str_at(sub, "/metadata/user_id").and_then(|s| s.parse::<i64>().ok());
            let Some(uid) = by_meta else {
                return Err(Error::not_found(format!("customer {customer} is not linked to a user yet")));
            };
            if !db::users::link_stripe_customer(tx.conn(), uid, customer, Utc::now()).await? {
                return Err(Error::not_found(format!("user {uid} does not exist")));
            }
            db::users::find_by_id(tx.conn(), uid).await?.ok_or_else(|| Error::not_found("user vanished"))?.into_user()
        }
    };
    let state = db::users::SubscriptionState { plan, subscription_id: sub_id, status, period_end, event_at };
    if !db::users::set_subscription(tx.conn(), user.id, &state, Utc::now()).await? {
        // A newer event already set the state (this one was delivered late): nothing to do.
        tracing::info!(user_id = user.id, subscription = sub_id, status, "older subscription event ignored");
        tx.commit().await?;
        return Ok(false);
    }
    let detail = json!({ "subscription": sub_id, "status": status, "plan": plan.as_str() });
    audit(&mut tx, "billing.subscription", user.id, &detail).await?;
    let data = json!({
        "plan": plan.as_str(), "status": status,
        "current_period_end": period_end.map(|t| t.to_rfc3339()), "url": "/settings"
    });
    let n = notifications::raise(tx.conn(), user.id, NotificationKind::SubscriptionUpdated, &data).await?;
    tx.commit().await?;
    super::tokens::forget_user(user.id);
    notifications::deliver(bus, [n]);
    Ok(true)
}

/// A failed payment: a live subscription becomes `past_due` (unless a newer event said
/// otherwise), which the settings page shows, and the user is told.
async fn payment_failed(db: &Db, bus: &Bus, invoice: &Value, event_at: DateTime<Utc>) -> Result<bool> {
    let customer = str_at(invoice, "/customer").ok_or_else(|| Error::bad_request("invoice without a customer"))?;
    let mut tx = db.begin().await?;
    let Some(user) = db::users::find_by_stripe_customer(tx.conn(), customer).await? else {
        return Err(Error::not_found(format!("customer {customer} is not linked to a user yet")));
    };
    let user = user.into_user();
    let billing = db::users::billing(tx.conn(), user.id).await?.ok_or_else(|| Error::not_found("user vanished"))?;
    let invoice_sub = str_at(invoice, "/subscription");
    let same_subscription = match (invoice_sub, billing.subscription_id.as_deref()) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    };
    let plan = plan_for("past_due", false);
    if same_subscription && db::users::set_past_due(tx.conn(), user.id, plan, event_at, Utc::now()).await? {
        let detail = json!({ "invoice": str_at(invoice, "/id"), "status": "past_due", "plan": plan.as_str() });
        audit(&mut tx, "billing.payment_failed", user.id, &detail).await?;
    }
    let data = json!({
        "invoice": str_at(invoice, "/id"),
        "amount_due": invoice.get("amount_due"),
        "currency": str_at(invoice, "/currency"),
        "url": "/settings"
    });
    let n = notifications::raise(tx.conn(), user.id, NotificationKind::PaymentFailed, &data).await?;
    tx.commit().await?;
    super::tokens::forget_user(user.id);
    notifications::deliver(bus, [n]);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_active_and_trialing_subscriptions_are_pro() {
        assert_eq!(plan_for("active", false), Plan::Pro);
        assert_eq!(plan_for("trialing", false), Plan::Pro);
        assert_eq!(plan_for("active", true), Plan::Free);
        for s in ["past_due", "canceled", "unpaid", "incomplete", "incomplete_expired", "paused"] {
            assert_eq!(plan_for(s, false), Plan::Free, "{s}");
        }
    }
}
