//! The rules for list queries, defined once: page sizes and the post-list filter. REST,
//! GraphQL and the web UI's server functions all parse their input through these, so a
//! filter that exists has been checked.

use super::{post::TAGS_MAX, post::TAG_MAX, AppError, Category};

/// A list page's size when none is asked for, and the most one may ask for.
pub const PAGE_DEFAULT: i64 = 20;
pub const PAGE_MAX: i64 = 100;
/// The longest full-text query, in characters.
pub const QUERY_MAX: usize = 200;

/// `value` (or `default`) if it lies in 1..=[`PAGE_MAX`]; else a 400 naming `name`.
pub fn page_size(name: &str, value: Option<i64>, default: i64) -> Result<i64, AppError> {
    in_range(name, value.unwrap_or(default), 1, PAGE_MAX)
}

/// `value` if it lies in `min..=max`; else a 400 naming `name`.
pub fn in_range(name: &str, value: i64, min: i64, max: i64) -> Result<i64, AppError> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::bad_request(format!("`{name}` must be between {min} and {max}.")))
    }
}

/// Which posts a list shows: only built by [`ListFilter::parse`], so every value is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    category: Option<Category>,
    tags: Vec<String>,
    author_id: Option<i64>,
    q: Option<String>,
    drafts_of: Option<i64>,
}

impl ListFilter {
    /// Checks a list query's filters: tags are trimmed, lower-cased and deduplicated (1 to
    /// [`TAG_MAX`] characters each, at most [`TAGS_MAX`]); `author` is a positive id; `q` is
    /// trimmed (empty means none), at most [`QUERY_MAX`] characters.
    pub fn parse<'a>(
        category: Option<Category>,
        tags: impl IntoIterator<Item = &'a str>,
        author: Option<i64>,
        q: Option<&str>,
    ) -> Result<Self, AppError> {
        let mut clean: Vec<String> = Vec::new();
        for t in tags {
            let t = t.trim().to_lowercase();
            if t.is_empty() || t.chars().count() > TAG_MAX {
                return Err(AppError::bad_request(format!("Each `tag` must be 1 to {TAG_MAX} characters.")));
            }
            if !clean.contains(&t) {
                clean.push(t);
            }
            if clean.len() > TAGS_MAX {
                return Err(AppError::bad_request(format!("Filter by at most {TAGS_MAX} tags.")));
            }
        }
        if let Some(a) = author {
            in_range("author", a, 1, i64::MAX)?;
        }
        let q = q.map(str::trim).filter(|s| !s.is_empty());
        if q.is_some_and(|s| s.chars().count() > QUERY_MAX) {
            return Err(AppError::bad_request(format!("`q` may be at most {QUERY_MAX} characters.")));
        }
        Ok(ListFilter { category, tags: clean, author_id: author, q: q.map(str::to_string), drafts_of: None })
    }

    /// The same filters over `author`'s drafts instead of published posts.
    pub fn drafts_of(mut self, author: i64) -> Self {
        self.drafts_of = Some(author);
        self
    }

    pub fn category(&self) -> Option<Category> {
        self.category
    }
    /// Posts carrying every one of these tags.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }
    pub fn author_id(&self) -> Option<i64> {
        self.author_id
    }
    /// A full-text query (the list stays newest first, so the cursor still works).
    pub fn q(&self) -> Option<&str> {
        self.q.as_deref()
    }
    /// `Some(author)`: that author's drafts instead of published posts.
    pub fn draft_author(&self) -> Option<i64> {
        self.drafts_of
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_cleaned_and_bounded() {
        let f = ListFilter::parse(None, [" Rust ", "rust", "web"], Some(3), Some("  ")).unwrap();
        assert_eq!(f.tags(), ["rust", "web"]);
        assert_eq!(f.author_id(), Some(3));
        assert_eq!(f.q(), None, "a blank query is no query");
        assert!(ListFilter::parse(None, [""], None, None).is_err());
        assert!(ListFilter::parse(None, ["x".repeat(TAG_MAX + 1).as_str()], None, None).is_err());
        let many: Vec<String> = (0..=TAGS_MAX).map(|i| format!("t{i}")).collect();
        assert!(ListFilter::parse(None, many.iter().map(String::as_str), None, None).is_err());
        assert!(ListFilter::parse(None, [], Some(0), None).is_err());
        assert!(ListFilter::parse(None, [], None, Some(&"q".repeat(QUERY_MAX + 1))).is_err());
        assert_eq!(ListFilter::parse(None, [], None, None).unwrap().drafts_of(7).draft_author(), Some(7));
    }

    #[test]
    fn page_sizes_stay_in_bounds() {
        assert_eq!(page_size("limit", None, PAGE_DEFAULT).unwrap(), 20);
        assert_eq!(page_size("limit", Some(100), PAGE_DEFAULT).unwrap(), 100);
        assert!(page_size("limit", Some(0), PAGE_DEFAULT).is_err());
        assert!(page_size("limit", Some(101), PAGE_DEFAULT).is_err());
    }
}
