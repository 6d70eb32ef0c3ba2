//! A directory of its own for one test, removed when the test is done. (Written here rather
//! than taken from `tempfile`: that crate's dependencies would switch on features of crates
//! the application shares, and every test build would compile async-graphql, redis and
//! their dependents a second time.)

use std::path::{Path, PathBuf};

pub struct TempDir(PathBuf);

impl TempDir {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh, empty directory under the system's temporary directory.
pub fn tempdir() -> std::io::Result<TempDir> {
    let path = std::env::temp_dir().join(format!("quire-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir(&path)?;
    Ok(TempDir(path))
}
