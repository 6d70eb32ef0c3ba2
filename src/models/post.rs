//! Posts as the UI and the API show them, and the rules a post must meet
//! (shared by the editor in the browser and the server).

use super::time::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::FieldError;

pub const TITLE_MAX: usize = 200;
pub const BODY_MAX: usize = 100_000;
pub const TAGS_MAX: usize = 10;
pub const TAG_MAX: usize = 32;

named_enum! {
    #[derive(Default)]
    #[cfg_attr(feature = "ssr", derive(async_graphql::Enum))]
    pub enum Category {
        #[default]
        Tech = "tech",
        Lifestyle = "lifestyle",
        Business = "business",
    }
}

/// A post as shown to readers and API clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, async_graphql::SimpleObject))]
pub struct Post {
    pub id: i64,
    pub author_id: i64,
    pub author_name: String,
    pub title: String,
    pub slug: String,
    /// Markdown, up to 100,000 characters: weighs ten fields in a GraphQL query's complexity.
    #[cfg_attr(feature = "ssr", graphql(complexity = 10))]
    pub body: String,
    pub category: Category,
    pub tags: Vec<String>,
    pub published: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A post's editable content that passed every rule: trimmed title, tags lower-cased,
/// de-duplicated and in the order given. Only [`PostContent::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostContent {
    title: String,
    body: String,
    category: Category,
    tags: Vec<String>,
}

impl PostContent {
    pub fn title(&self) -> &str {
        &self.title
    }
    pub fn body(&self) -> &str {
        &self.body
    }
    pub fn category(&self) -> Category {
        self.category
    }
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// Validates raw input; every failing field is reported at once. `tags` is a
    /// comma-separated list as typed in the editor.
    pub fn parse(title: &str, body: &str, category: &str, tags: &str) -> Result<Self, Vec<FieldError>> {
        let tags: Vec<&str> = tags.split(',').collect();
        Self::parse_parts(title, body, category, &tags)
    }

    /// As [`PostContent::parse`], with tags already split (the JSON API sends an array).
    pub fn parse_parts(title: &str, body: &str, category: &str, tags: &[&str]) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = title.trim();
        let title_len = title.chars().count();
        if title_len == 0 || title_len > TITLE_MAX {
            errors.push(FieldError::new("title", format!("Enter a title between 1 and {TITLE_MAX} characters.")));
        }
        let body_len = body.chars().count();
        if body.trim().is_empty() || body_len > BODY_MAX {
            errors.push(FieldError::new("body", format!("Write a body between 1 and {BODY_MAX} characters.")));
        }
        let category = Category::parse(category.trim());
        if category.is_none() {
            errors.push(FieldError::new("category", "Choose tech, lifestyle or business."));
        }
        let mut clean: Vec<String> = Vec::new();
        for tag in tags.iter().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()) {
            if tag.chars().count() > TAG_MAX {
                errors.push(FieldError::new("tags", format!("Each tag may have at most {TAG_MAX} characters.")));
                break;
            }
            if !clean.contains(&tag) {
                clean.push(tag);
            }
        }
        if clean.len() > TAGS_MAX {
            errors.push(FieldError::new("tags", format!("Use at most {TAGS_MAX} tags.")));
        }
        match (errors.is_empty(), category) {
            (true, Some(category)) => {
                Ok(PostContent { title: title.to_string(), body: body.to_string(), category, tags: clean })
            }
            _ => Err(errors),
        }
    }
}

/// Some fields of a post's content, each checked by the same rules as [`PostContent`]; the
/// rest come from the post as it is when the change is applied ([`ContentPatch::apply`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentPatch {
    title: Option<String>,
    body: Option<String>,
    category: Option<Category>,
    tags: Option<Vec<String>>,
}

impl ContentPatch {
    /// Checks the given fields; every failing one is reported at once.
    pub fn parse(
        title: Option<&str>,
        body: Option<&str>,
        category: Option<&str>,
        tags: Option<&[&str]>,
    ) -> Result<Self, Vec<FieldError>> {
        // Valid stand-ins for the absent fields: only the given ones can fail.
        let checked = PostContent::parse_parts(
            title.unwrap_or("-"),
            body.unwrap_or("-"),
            category.unwrap_or("tech"),
            tags.unwrap_or(&[]),
        )?;
        Ok(ContentPatch {
            title: title.map(|_| checked.title.clone()),
            body: body.map(|_| checked.body.clone()),
            category: category.map(|_| checked.category),
            tags: tags.map(|_| checked.tags.clone()),
        })
    }

    /// Whether no content field is changed.
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.body.is_none() && self.category.is_none() && self.tags.is_none()
    }

    /// The content `post` has with these fields changed.
    pub fn apply(&self, post: &Post) -> PostContent {
        PostContent {
            title: self.title.clone().unwrap_or_else(|| post.title.clone()),
            body: self.body.clone().unwrap_or_else(|| post.body.clone()),
            category: self.category.unwrap_or(post.category),
            tags: self.tags.clone().unwrap_or_else(|| post.tags.clone()),
        }
    }
}

/// A URL slug from a title: lower-case ASCII letters and digits joined by single dashes,
/// at most 80 characters; `post` when nothing is left.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    let mut dash = false;
    for c in title.chars().flat_map(char::to_lowercase) {
        if !c.is_ascii_alphanumeric() {
            dash = !slug.is_empty();
            continue;
        }
        let needed = if dash { 2 } else { 1 };
        if slug.len() + needed > 80 {
            break;
        }
        if dash {
            slug.push('-');
            dash = false;
        }
        slug.push(c);
    }
    if slug.is_empty() {
        "post".to_string()
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_plain_and_bounded() {
        assert_eq!(slugify("  Hello, World! Rust & Leptos  "), "hello-world-rust-leptos");
        assert_eq!(slugify("¡¿?!"), "post");
        assert!(slugify(&"word ".repeat(100)).len() <= 80);
    }

    #[test]
    fn content_rules_report_every_field() {
        let errs = PostContent::parse("", " ", "cooking", &"x".repeat(33)).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "body", "category", "tags"]);
        assert!(PostContent::parse(&"t".repeat(201), "b", "tech", "").is_err());
        assert!(PostContent::parse("t", &"b".repeat(100_001), "tech", "").is_err());
        let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert!(PostContent::parse("t", "b", "tech", &eleven.join(",")).is_err());
    }

    #[test]
    fn tags_are_normalised() {
        let p = PostContent::parse(" Title ", "Body", "lifestyle", "Rust, rust ,  web,").unwrap();
        assert_eq!(p.title, "Title");
        assert_eq!(p.tags, ["rust", "web"]);
        assert_eq!(p.category, Category::Lifestyle);
    }
}

pub const COMMENT_MAX: usize = 5_000;

/// A comment as readers see it (and as the data layer reads it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, async_graphql::SimpleObject))]
pub struct Comment {
    pub id: i64,
    pub post_id: i64,
    pub author_id: i64,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A comment's text that passed the rules: 1–5,000 characters once trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentBody(String);

impl CommentBody {
    pub fn parse(body: &str) -> Result<Self, Vec<FieldError>> {
        let body = body.trim();
        let n = body.chars().count();
        if n == 0 || n > COMMENT_MAX {
            Err(vec![FieldError::new("body", format!("Write a comment between 1 and {COMMENT_MAX} characters."))])
        } else {
            Ok(CommentBody(body.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many comments one page holds by default, and at most.
pub const COMMENTS_PAGE: i64 = 50;

/// A page of a post's comments, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommentPage {
    pub items: Vec<Comment>,
    /// Where the next (newer) page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The comments a post page shows: a window of them (oldest first), the post's total, and
/// where the older ones before this window start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CommentWindow {
    pub items: Vec<Comment>,
    pub total: i64,
    /// Pass back as `before` to see the comments before this window.
    pub older: Option<String>,
}

/// Likes and comments on one post, and whether the viewer liked it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PostStats {
    pub likes: i64,
    pub comments: i64,
    pub liked_by_me: bool,
}

/// One page of a post list and where the next one starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PostList {
    pub items: Vec<Post>,
    pub next_cursor: Option<String>,
}

/// A post as a list's card shows it: no body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostCard {
    pub id: i64,
    pub author_name: String,
    pub title: String,
    pub slug: String,
    pub category: Category,
    pub tags: Vec<String>,
    pub published_at: Option<DateTime<Utc>>,
}

/// One of the author's own posts as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyPost {
    pub id: i64,
    pub title: String,
    pub slug: String,
    pub published: bool,
    pub updated_at: DateTime<Utc>,
}

/// One page of the author's own posts and where the next (older) one starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MyPostList {
    pub items: Vec<MyPost>,
    pub next_cursor: Option<String>,
}

/// One page of cards and where the next one starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CardList {
    pub items: Vec<PostCard>,
    pub next_cursor: Option<String>,
}

/// A tag and how many published posts carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TagCount {
    pub name: String,
    pub posts: i64,
}

/// Everything the post page shows, read in one server call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostView {
    pub post: Post,
    /// The body rendered from Markdown and sanitised on the server.
    pub html: String,
    pub stats: PostStats,
    /// The newest comments (or the window before `before`).
    pub comments: CommentWindow,
    /// The viewer, if signed in (to offer deleting their own comments).
    pub viewer_id: Option<i64>,
    pub viewer_is_admin: bool,
}
