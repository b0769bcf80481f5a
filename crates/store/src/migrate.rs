//! The schema migrations, embedded in the binary so it runs from any folder.
//!
//! Migrations are append-only: a new schema change is a new file in
//! `migrations/{sqlite,postgres}/` with the next version number, listed here.
//! sqlx records applied versions and their checksums in `_sqlx_migrations`
//! and refuses to start on a database whose applied migrations were edited.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// `(version, description, SQLite SQL, PostgreSQL SQL)`.
pub(crate) const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "ops",
        include_str!("../migrations/sqlite/0002_ops.sql"),
        include_str!("../migrations/postgres/0002_ops.sql"),
    ),
    (
        3,
        "natural_key",
        include_str!("../migrations/sqlite/0003_natural_key.sql"),
        include_str!("../migrations/postgres/0003_natural_key.sql"),
    ),
    (
        4,
        "stored_count",
        include_str!("../migrations/sqlite/0004_stored_count.sql"),
        include_str!("../migrations/postgres/0004_stored_count.sql"),
    ),
];

fn build(pick: impl Fn(&(i64, &str, &'static str, &'static str)) -> &'static str) -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|m| {
                Migration::new(
                    m.0,
                    Cow::Borrowed(m.1),
                    MigrationType::Simple,
                    pick(m).into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// The SQLite migrator.
pub(crate) fn sqlite() -> Migrator {
    build(|m| m.2)
}

/// The PostgreSQL migrator.
pub(crate) fn postgres() -> Migrator {
    build(|m| m.3)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file in the migration folders is listed, in order, under the
    /// version its name starts with.
    #[test]
    fn every_migration_file_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        for backend in ["sqlite", "postgres"] {
            let mut names: Vec<String> = std::fs::read_dir(root.join(backend))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            assert_eq!(names.len(), MIGRATIONS.len(), "{backend}: {names:?}");
            for (name, m) in names.iter().zip(MIGRATIONS) {
                let v: i64 = name[..4].parse().unwrap();
                assert_eq!(v, m.0, "{backend}/{name}");
                assert!(name.ends_with(&format!("_{}.sql", m.1)), "{backend}/{name}");
                let text = std::fs::read_to_string(root.join(backend).join(name)).unwrap();
                let embedded = if backend == "sqlite" { m.2 } else { m.3 };
                assert_eq!(text, embedded, "{backend}/{name}");
            }
        }
    }
}
