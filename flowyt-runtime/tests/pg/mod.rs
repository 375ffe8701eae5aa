//! A PostgreSQL database of a test's own, on the server our machines run (127.0.0.1:5432, user
//! `postgres`; or the admin URL in `FLOWYT_TEST_POSTGRES`), dropped when the test ends, so
//! runs never collide.

use sqlx::Executor;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A database created for one test; dropped (with its connections) on drop.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    name: String,
    admin: String,
}

fn admin_url() -> String {
    std::env::var("FLOWYT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

async fn admin(admin: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    match sqlx::AnyPool::connect(admin).await {
        Ok(pool) => pool,
        Err(e) => panic!(
            "these tests need PostgreSQL: cannot connect to `{admin}` ({e}).\n\
             Start PostgreSQL 15 on 127.0.0.1:5432 with trust auth for user `postgres` \
             (as on our machines), or set FLOWYT_TEST_POSTGRES to an admin URL."
        ),
    }
}

impl TestDb {
    /// Creates `flowyt_t_<tag>_<pid>_<n>`.
    pub async fn create(tag: &str) -> TestDb {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "flowyt_t_{tag}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let admin_url = admin_url();
        let pool = admin(&admin_url).await;
        let _ = pool
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await;
        pool.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        pool.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        TestDb {
            url: format!("{base}/{name}"),
            name,
            admin: admin_url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin.clone(), self.name.clone());
        // Drop may run inside a runtime: the database goes from a thread of its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let pool = sqlx::AnyPool::connect(&admin_url).await.ok()?;
                let done = pool
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await;
                pool.close().await;
                done.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("warning: test database {} was not dropped", self.name);
        }
    }
}
