//! Timestamps. The server works with chrono's `DateTime<Utc>`. The browser only shows the
//! timestamps the server sent it, so there a `DateTime<Utc>` is that RFC 3339 text itself:
//! the same JSON, and no calendar code in the bundle. Views format through [`day`],
//! [`minute`] and [`second`], which give the same text in both builds (a hydrated island
//! must match its server-rendered HTML).

#[cfg(feature = "ssr")]
pub use chrono::{DateTime, Utc};

#[cfg(not(feature = "ssr"))]
pub use browser::{DateTime, Utc};

/// `YYYY-MM-DD`.
pub fn day(t: &DateTime<Utc>) -> String {
    fields(t, 10)
}

/// `YYYY-MM-DD HH:MM`.
pub fn minute(t: &DateTime<Utc>) -> String {
    fields(t, 16)
}

/// `YYYY-MM-DD HH:MM:SS`.
pub fn second(t: &DateTime<Utc>) -> String {
    fields(t, 19)
}

/// The first `len` characters of `YYYY-MM-DD HH:MM:SS`, written digit by digit: a format
/// string costs ~2,800 instructions a call, and the front page makes 20 of them per render.
#[cfg(feature = "ssr")]
fn fields(t: &DateTime<Utc>, len: usize) -> String {
    use chrono::{Datelike, Timelike};
    fn push(s: &mut String, n: u32, width: u32) {
        for place in (0..width).rev() {
            s.push(char::from(b'0' + (n / 10u32.pow(place) % 10) as u8));
        }
    }
    let mut s = String::with_capacity(19);
    match u32::try_from(t.year()) {
        Ok(year) if year <= 9999 => push(&mut s, year, 4),
        // Outside four digits (never for a stored timestamp).
        _ => s.push_str(&format!("{:04}", t.year())),
    }
    for (sep, n) in [('-', t.month()), ('-', t.day()), (' ', t.hour()), (':', t.minute()), (':', t.second())] {
        s.push(sep);
        push(&mut s, n, 2);
    }
    s.truncate(len);
    s
}

/// The same from the RFC 3339 text (`YYYY-MM-DDTHH:MM:SS…`).
#[cfg(not(feature = "ssr"))]
fn fields(t: &DateTime<Utc>, len: usize) -> String {
    let s = t.as_str();
    match (s.get(..10), s.get(11..len.max(11))) {
        (Some(date), _) if len <= 10 => date.to_string(),
        (Some(date), Some(time)) => format!("{date} {time}"),
        _ => s.to_string(),
    }
}

#[cfg(not(feature = "ssr"))]
mod browser {
    use std::marker::PhantomData;

    use serde::{Deserialize, Serialize};

    /// The time zone marker (always UTC).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct Utc;

    /// A timestamp as the server sent it (RFC 3339, UTC).
    #[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(transparent)]
    pub struct DateTime<Tz>(String, #[serde(skip)] PhantomData<Tz>);

    impl<Tz> DateTime<Tz> {
        /// The timestamp the server sent as `text` (its RFC 3339 serialisation).
        pub fn from_text(text: String) -> Self {
            Self(text, PhantomData)
        }

        pub fn as_str(&self) -> &str {
            &self.0
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_as_the_browser_derives_from_rfc_3339() {
        let t: DateTime<Utc> = "2026-03-04T05:06:07.891Z".parse().unwrap();
        assert_eq!(day(&t), "2026-03-04");
        assert_eq!(minute(&t), "2026-03-04 05:06");
        assert_eq!(second(&t), "2026-03-04 05:06:07");
        let early: DateTime<Utc> = "0987-12-31T23:59:58Z".parse().unwrap();
        assert_eq!(second(&early), "0987-12-31 23:59:58");
        // What the browser build receives is chrono's own serialisation.
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.starts_with("\"2026-03-04T05:06:07"), "{json}");
    }
}
