//! Settings from a TOML file (`--config conclave.toml`), beneath the environment and the
//! command line: a setting given as a flag wins over the environment, which wins over the
//! file, which wins over the defaults.
//!
//! The file's keys are the `serve` flags without their dashes (`bind`, `database_url`,
//! `trusted_proxies`, …; `-` and `_` both do). Each is handed on as the flag's environment
//! variable when that is not already set, so the one set of parsers and checks of the
//! flags applies to the file too.

use std::path::{Path, PathBuf};

/// Why the file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error("could not read the configuration file {path:?}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path:?} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path:?}: unknown setting `{key}` (the settings are the `conclave serve` flags without `--`, such as `bind` or `database_url`; see `conclave serve --help`)")]
    Unknown { path: PathBuf, key: String },
    #[error("{path:?}: `{key}` must be a string, a number, a boolean or a list of those")]
    Shape { path: PathBuf, key: String },
}

/// The `--config` path in `args` (`--config FILE` or `--config=FILE`), else the
/// `CONCLAVE_CONFIG` environment variable.
pub fn path_in(args: &[String]) -> Option<PathBuf> {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("CONCLAVE_CONFIG").map(PathBuf::from)
}

/// The environment variables the file at `path` sets for `serve`'s flags (described by
/// `command`), as `(flag, variable, value)`, in the file's order.
pub fn read(
    path: &Path,
    command: &clap::Command,
) -> Result<Vec<(String, String, String)>, ConfigFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let table: toml::Table =
        text.parse()
            .map_err(|e: toml::de::Error| ConfigFileError::Syntax {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
    let mut settings = Vec::new();
    for (key, value) in table {
        let flag = key.replace('_', "-");
        let env = command
            .get_arguments()
            .find(|arg| arg.get_long() == Some(flag.as_str()))
            .and_then(|arg| arg.get_env())
            .and_then(|env| env.to_str())
            .ok_or_else(|| ConfigFileError::Unknown {
                path: path.to_owned(),
                key: key.clone(),
            })?;
        let shape = || ConfigFileError::Shape {
            path: path.to_owned(),
            key: key.clone(),
        };
        let text = match &value {
            toml::Value::Array(items) => items
                .iter()
                .map(|item| scalar(item).ok_or_else(shape))
                .collect::<Result<Vec<_>, _>>()?
                .join(","),
            other => scalar(other).ok_or_else(shape)?,
        };
        settings.push((flag, env.to_owned(), text));
    }
    Ok(settings)
}

fn scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(n) => Some(n.to_string()),
        toml::Value::Float(x) => Some(x.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, Command};

    fn command() -> Command {
        Command::new("serve")
            .arg(Arg::new("bind").long("bind").env("CONCLAVE_BIND"))
            .arg(
                Arg::new("pool_size")
                    .long("pool-size")
                    .env("CONCLAVE_POOL_SIZE"),
            )
            .arg(
                Arg::new("trusted_proxies")
                    .long("trusted-proxies")
                    .env("CONCLAVE_TRUSTED_PROXIES"),
            )
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn keys_become_the_flags_environment_variables_and_lists_join_with_commas() {
        let f = file(
            "bind = \"0.0.0.0:80\"\npool-size = 4\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n",
        );
        let settings = read(f.path(), &command()).unwrap();
        assert_eq!(
            settings,
            [
                ("bind".into(), "CONCLAVE_BIND".into(), "0.0.0.0:80".into()),
                ("pool-size".into(), "CONCLAVE_POOL_SIZE".into(), "4".into()),
                (
                    "trusted-proxies".into(),
                    "CONCLAVE_TRUSTED_PROXIES".into(),
                    "10.0.0.0/8,::1".into()
                ),
            ]
        );
    }

    #[test]
    fn unknown_keys_bad_toml_and_nested_tables_are_refused_with_the_reason() {
        let f = file("bnid = \"x\"\n");
        let error = read(f.path(), &command()).unwrap_err().to_string();
        assert!(error.contains("unknown setting `bnid`"), "{error}");
        let f = file("bind = \n");
        assert!(matches!(
            read(f.path(), &command()),
            Err(ConfigFileError::Syntax { .. })
        ));
        let f = file("[bind]\nport = 1\n");
        assert!(matches!(
            read(f.path(), &command()),
            Err(ConfigFileError::Shape { .. })
        ));
        let missing = std::path::Path::new("/nonexistent/conclave.toml");
        assert!(matches!(
            read(missing, &command()),
            Err(ConfigFileError::Read { .. })
        ));
    }

    #[test]
    fn the_path_comes_from_the_flag_in_either_spelling() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            path_in(&args(&["conclave", "serve", "--config", "a.toml"])),
            Some("a.toml".into())
        );
        assert_eq!(
            path_in(&args(&["conclave", "serve", "--config=b.toml"])),
            Some("b.toml".into())
        );
    }
}
