//! Copies of an SQLite database taken while it is in use, with SQLite's online backup API,
//! and putting one back.
//!
//! A backup holds the database file only; the event index beside it (`<file>-index`) is
//! derived from the events and is filed again when the server starts on a restored copy.

use libsqlite3_sys as ffi;
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Pages copied per step (16 MiB of 4 KiB pages), between progress reports.
const PAGES_PER_STEP: i32 = 4096;

/// Restarts tolerated (each write by the server while a backup runs restarts it) before
/// the rest is copied in one step, which a busy server cannot restart.
const RESTARTS_BEFORE_ONE_STEP: u32 = 3;

/// Why a backup or restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists: choose another name, or move it away first")]
    Exists(PathBuf),
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error("{path}: {message}")]
    Sqlite { path: String, message: String },
    #[error("{0} is not a Conclave database (it has no migrations table)")]
    NotConclave(PathBuf),
    #[error("could not copy files: {0}")]
    Io(#[from] std::io::Error),
}

/// An open raw SQLite connection, closed when dropped.
struct Raw {
    db: *mut ffi::sqlite3,
    path: String,
}

impl Raw {
    fn open(path: &Path, flags: i32) -> Result<Raw, BackupError> {
        let shown = path.display().to_string();
        let c_path = CString::new(shown.clone()).map_err(|_| BackupError::Sqlite {
            path: shown.clone(),
            message: "the path holds a NUL byte".into(),
        })?;
        let mut db = std::ptr::null_mut();
        // SAFETY: c_path is a valid C string; db receives a handle that Raw closes.
        let rc = unsafe { ffi::sqlite3_open_v2(c_path.as_ptr(), &mut db, flags, std::ptr::null()) };
        let raw = Raw { db, path: shown };
        if rc != ffi::SQLITE_OK {
            return Err(raw.error());
        }
        // SAFETY: db is an open handle.
        unsafe { ffi::sqlite3_busy_timeout(raw.db, 10_000) };
        Ok(raw)
    }

    fn error(&self) -> BackupError {
        // SAFETY: sqlite3_errmsg accepts any handle sqlite3_open_v2 gave, even a failed one,
        // and returns a NUL-terminated string it owns.
        let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(self.db)) }
            .to_string_lossy()
            .into_owned();
        BackupError::Sqlite {
            path: self.path.clone(),
            message,
        }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        // SAFETY: db came from sqlite3_open_v2 and is closed once, here; any backup on it
        // was finished first.
        unsafe { ffi::sqlite3_close(self.db) };
    }
}

/// Copies the database at `source` into a new file at `dest` while the server may be
/// using it, calling `progress(copied, total)` in pages as it goes. The copy is written
/// beside `dest` and renamed into place once whole, so `dest` never holds half a backup.
pub fn backup(
    source: &Path,
    dest: &Path,
    progress: impl FnMut(i32, i32),
) -> Result<(), BackupError> {
    if dest.exists() {
        return Err(BackupError::Exists(dest.to_owned()));
    }
    if !source.exists() {
        return Err(BackupError::Missing(source.to_owned()));
    }
    copy_database(source, dest, progress)
}

/// Puts the backup at `source` in place as the database at `dest` (the server must be
/// stopped). An existing database is replaced only with `replace`; its write-ahead log and
/// event index go with it, as they belong to the database being replaced.
pub fn restore(
    source: &Path,
    dest: &Path,
    replace: bool,
    progress: impl FnMut(i32, i32),
) -> Result<(), BackupError> {
    if !source.exists() {
        return Err(BackupError::Missing(source.to_owned()));
    }
    if dest.exists() && !replace {
        return Err(BackupError::Exists(dest.to_owned()));
    }
    let check = Raw::open(source, ffi::SQLITE_OPEN_READONLY)?;
    let sql = CString::new("SELECT 1 FROM __diesel_schema_migrations LIMIT 1").expect("no NUL");
    // SAFETY: check.db is open; sqlite3_exec runs the statement without a callback.
    let rc = unsafe {
        ffi::sqlite3_exec(
            check.db,
            sql.as_ptr(),
            None,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    drop(check);
    if rc != ffi::SQLITE_OK {
        return Err(BackupError::NotConclave(source.to_owned()));
    }
    let staged = with_suffix(dest, ".restoring");
    remove_if_there(&staged)?;
    copy_database(source, &staged, progress)?;
    // A log or index left by the replaced database would be read as this one's.
    for stale in ["-wal", "-shm", "-index", "-index-wal", "-index-shm"] {
        remove_if_there(&with_suffix(dest, stale))?;
    }
    std::fs::rename(&staged, dest)?;
    Ok(())
}

fn copy_database(
    source: &Path,
    dest: &Path,
    mut progress: impl FnMut(i32, i32),
) -> Result<(), BackupError> {
    let partial = with_suffix(dest, ".partial");
    remove_if_there(&partial)?;
    let from = Raw::open(source, ffi::SQLITE_OPEN_READWRITE)?;
    let to = Raw::open(
        &partial,
        ffi::SQLITE_OPEN_READWRITE | ffi::SQLITE_OPEN_CREATE,
    )?;
    let main = CString::new("main").expect("no NUL");
    // SAFETY: both handles are open and distinct; the backup is finished below before
    // either is closed.
    let job = unsafe { ffi::sqlite3_backup_init(to.db, main.as_ptr(), from.db, main.as_ptr()) };
    if job.is_null() {
        return Err(to.error());
    }
    let mut restarts = 0;
    let mut last_remaining = i32::MAX;
    let outcome = loop {
        let step = if restarts >= RESTARTS_BEFORE_ONE_STEP {
            -1
        } else {
            PAGES_PER_STEP
        };
        // SAFETY: job is a live backup handle.
        let rc = unsafe { ffi::sqlite3_backup_step(job, step) };
        // SAFETY: as above.
        let (remaining, total) = unsafe {
            (
                ffi::sqlite3_backup_remaining(job),
                ffi::sqlite3_backup_pagecount(job),
            )
        };
        if remaining > last_remaining {
            restarts += 1;
        }
        last_remaining = remaining;
        match rc {
            ffi::SQLITE_DONE => {
                progress(total, total);
                break Ok(());
            }
            ffi::SQLITE_OK => progress(total - remaining, total),
            ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED => std::thread::sleep(Duration::from_millis(50)),
            _ => break Err(()),
        }
    };
    // SAFETY: job is finished once, here.
    let rc = unsafe { ffi::sqlite3_backup_finish(job) };
    if outcome.is_err() || rc != ffi::SQLITE_OK {
        let error = to.error();
        drop(to);
        std::fs::remove_file(&partial).ok();
        return Err(error);
    }
    drop((from, to));
    std::fs::rename(&partial, dest)?;
    Ok(())
}

/// Copies the files under `from` into `to` (made if missing), leaving uploads in progress
/// (`.incoming`) behind; the number of files copied.
pub fn copy_files(from: &Path, to: &Path) -> Result<usize, BackupError> {
    if !from.exists() {
        return Ok(0);
    }
    std::fs::create_dir_all(to)?;
    let mut copied = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == ".incoming" {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copied += copy_files(&entry.path(), &to.join(&name))?;
        } else {
            std::fs::copy(entry.path(), to.join(&name))?;
            copied += 1;
        }
    }
    Ok(copied)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_if_there(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}
