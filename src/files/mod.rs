//! Uploaded files' bytes. The database keeps what is known of each file (its row in
//! `attachments`); the bytes live in a [`FileStore`], a directory on disk by default. A later
//! S3-compatible store (the `object_store` crate) implements the same three operations.

pub mod sniff;

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Where files' bytes are kept, by key (an attachment's id).
pub trait FileStore: Send + Sync + 'static {
    /// Takes in a finished upload, written to a local temporary file, under `key`.
    fn put(&self, key: &str, upload: &Path) -> io::Result<()>;
    /// Reads the bytes stored under `key`.
    fn open(&self, key: &str) -> io::Result<Box<dyn Read + Send>>;
    /// Removes what is stored under `key` (nothing stored is not an error).
    fn delete(&self, key: &str) -> io::Result<()>;
    /// A local directory for uploads in progress; [`FileStore::put`] takes them from there.
    fn scratch(&self) -> &Path;
}

/// Files in a directory: `<dir>/<key>`, with uploads in progress in `<dir>/.incoming`.
pub struct DiskFiles {
    dir: PathBuf,
    incoming: PathBuf,
}

impl DiskFiles {
    /// Files under `dir`, created if missing. Uploads cut short by a stop are cleared.
    pub fn open(dir: &Path) -> io::Result<DiskFiles> {
        let incoming = dir.join(".incoming");
        fs::create_dir_all(&incoming)?;
        for leftover in fs::read_dir(&incoming)?.flatten() {
            fs::remove_file(leftover.path()).ok();
        }
        Ok(DiskFiles {
            dir: dir.to_owned(),
            incoming,
        })
    }

    /// The path of `key`; keys are attachment ids, checked to be plain names.
    fn path(&self, key: &str) -> io::Result<PathBuf> {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad file key"));
        }
        Ok(self.dir.join(key))
    }
}

impl FileStore for DiskFiles {
    fn put(&self, key: &str, upload: &Path) -> io::Result<()> {
        let path = self.path(key)?;
        // Both live under `dir`, so this is a rename within one file system.
        fs::rename(upload, path)
    }

    fn open(&self, key: &str) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(fs::File::open(self.path(key)?)?))
    }

    fn delete(&self, key: &str) -> io::Result<()> {
        match fs::remove_file(self.path(key)?) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    fn scratch(&self) -> &Path {
        &self.incoming
    }
}
