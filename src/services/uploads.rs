//! Image uploads: streamed to disk while hashed and measured (never whole in memory),
//! judged by their first bytes (not by what the client declared), and stored under a
//! content-addressed name, so the same image uploaded twice is one file.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use chrono::Utc;
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::{
    db::{self, uploads::NewUpload, Db},
    error::{Error, Result},
    models::{AppError, ErrorCode, User},
};

/// The largest file accepted.
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Where stored files are served from.
pub const URL_PREFIX: &str = "/uploads/";

/// Accepted types: (MIME type, file extension).
const ALLOWED: [(&str, &str); 4] =
    [("image/jpeg", "jpg"), ("image/png", "png"), ("image/webp", "webp"), ("image/gif", "gif")];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Upload {
    /// Where the file is served (same origin).
    pub url: String,
    /// The stored, content-addressed file name.
    pub filename: String,
    /// The name the client sent, for display.
    pub original_name: String,
    pub size: i64,
    /// The type judged from the file's content.
    pub content_type: String,
}

/// Deletes the temporary file unless the upload completed.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn too_large() -> Error {
    Error::App(AppError::new(ErrorCode::PayloadTooLarge, "The file is larger than 10 MiB."))
}

fn unsupported() -> Error {
    Error::App(AppError::new(
        ErrorCode::UnsupportedMediaType,
        "Only JPEG, PNG, WebP and GIF images are accepted (judged by the file's content).",
    ))
}

/// The accepted type of a file starting with `head`, if any.
pub fn sniff(head: &[u8]) -> Option<(&'static str, &'static str)> {
    let kind = infer::get(head)?;
    ALLOWED.iter().copied().find(|(mime, _)| *mime == kind.mime_type())
}

/// A stored name is `<64 hex>.<ext>` with an accepted extension: nothing else is ever served.
pub fn content_type_of_stored(name: &str) -> Option<&'static str> {
    let (hash, ext) = name.split_once('.')?;
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    ALLOWED.iter().find(|(_, e)| *e == ext).map(|(mime, _)| *mime)
}

/// Streams `chunks` into `dir`, then records the upload for `owner`.
pub async fn store<S>(db: &Db, dir: &Path, owner: &User, original_name: &str, mut chunks: S) -> Result<Upload>
where
    S: Stream<Item = Result<Bytes>> + Unpin,
{
    tokio::fs::create_dir_all(dir).await.map_err(Error::internal)?;
    let tmp_path = dir.join(format!(".upload-{}", uuid::Uuid::new_v4().simple()));
    let mut guard = TempFile(Some(tmp_path.clone()));
    let mut file = tokio::fs::File::create(&tmp_path).await.map_err(Error::internal)?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head: Vec<u8> = Vec::with_capacity(64);
    let mut kind = None;

    while let Some(chunk) = chunks.next().await {
        let chunk = chunk?;
        size += chunk.len() as u64;
        if size > MAX_BYTES {
            return Err(too_large());
        }
        if kind.is_none() {
            head.extend_from_slice(&chunk[..chunk.len().min(64 - head.len().min(64))]);
            if head.len() >= 32 {
                kind = Some(sniff(&head).ok_or_else(unsupported)?);
            }
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await.map_err(Error::internal)?;
    }
    let (mime, ext) = match kind {
        Some(k) => k,
        None => sniff(&head).ok_or_else(unsupported)?,
    };
    file.flush().await.map_err(Error::internal)?;
    drop(file);

    let sha = hex::encode(hasher.finalize());
    let stored_name = format!("{sha}.{ext}");
    let final_path = dir.join(&stored_name);
    if tokio::fs::try_exists(&final_path).await.unwrap_or(false) {
        // The same bytes are already stored; the temporary copy is dropped by the guard.
    } else {
        tokio::fs::rename(&tmp_path, &final_path).await.map_err(Error::internal)?;
        guard.0 = None;
    }

    let original: String = original_name.chars().filter(|c| !c.is_control()).take(255).collect();
    let mut conn = db.acquire().await?;
    db::uploads::insert(
        conn.conn(),
        &NewUpload {
            owner_id: owner.id,
            stored_name: &stored_name,
            original_name: &original,
            content_type: mime,
            size: size as i64,
            sha256: &sha,
            now: Utc::now(),
        },
    )
    .await?;
    tracing::info!(user_id = owner.id, size, content_type = mime, "upload stored");
    Ok(Upload {
        url: format!("{URL_PREFIX}{stored_name}"),
        filename: stored_name,
        original_name: original,
        size: size as i64,
        content_type: mime.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_judged_by_content() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
        assert_eq!(sniff(&png), Some(("image/png", "png")));
        assert_eq!(sniff(b"GIF89a\x01\x00\x01\x00"), Some(("image/gif", "gif")));
        assert_eq!(sniff(b"hello, I am plain text pretending to be a PNG"), None);
        assert_eq!(sniff(b"%PDF-1.7 not an image"), None);
    }

    #[test]
    fn only_content_addressed_names_are_served() {
        let name = format!("{}.png", "a".repeat(64));
        assert_eq!(content_type_of_stored(&name), Some("image/png"));
        assert_eq!(content_type_of_stored("../../etc/passwd"), None);
        assert_eq!(content_type_of_stored(&format!("{}.html", "a".repeat(64))), None);
    }
}
