//! The catalog as a server holds it: built before the server listens when it is small, in the background
//! when it is large, so that `--catalog-size 1000000` does not hold up `listening on`.
//!
//! Requests wait for it in the outer layer ([`CatalogCell::ready`], one atomic load once it is there); the
//! handlers behind that layer read it through `Deref`, which never waits then.

use std::sync::OnceLock;

use super::Catalog;

/// A catalog that may still be building.
pub struct CatalogCell {
    cell: OnceLock<Result<Catalog, String>>,
    filled: tokio::sync::watch::Sender<bool>,
}

impl CatalogCell {
    /// A catalog already built.
    pub fn built(catalog: Catalog) -> Self {
        let cell = Self::building();
        cell.fill(Ok(catalog));
        cell
    }

    /// A catalog still building: [`fill`](Self::fill) it once it is.
    pub fn building() -> Self {
        CatalogCell { cell: OnceLock::new(), filled: tokio::sync::watch::Sender::new(false) }
    }

    /// Puts the built catalog (or why it could not be built) in place and wakes whoever waits. Only the first
    /// call counts.
    pub fn fill(&self, built: Result<Catalog, String>) {
        if self.cell.set(built).is_ok() {
            self.filled.send_replace(true);
        }
    }

    /// The catalog, or why it could not be built; `None` while it is building.
    pub fn get(&self) -> Option<Result<&Catalog, &str>> {
        self.cell.get().map(|r| r.as_ref().map_err(String::as_str))
    }

    /// Waits until the catalog is built (or has failed to be).
    ///
    /// # Errors
    /// Why the catalog could not be built.
    pub async fn ready(&self) -> Result<&Catalog, &str> {
        if self.cell.get().is_none() {
            let mut rx = self.filled.subscribe();
            // The sender lives as long as `self`: this wait ends when the catalog is filled.
            let _ = rx.wait_for(|filled| *filled).await;
        }
        self.get().unwrap_or(Err("the catalog was never built"))
    }
}

impl std::ops::Deref for CatalogCell {
    type Target = Catalog;

    /// The catalog; blocks while it is building (the outer layer makes requests wait with
    /// [`CatalogCell::ready`] first, so a handler never does).
    fn deref(&self) -> &Catalog {
        loop {
            match self.cell.get() {
                Some(Ok(c)) => return c,
                Some(Err(e)) => panic!("the catalog could not be built: {e}"),
                // Only what runs outside a request reads it this early (the build takes seconds at most).
                None => std::thread::sleep(std::time::Duration::from_millis(1)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_cell_filled_from_another_thread_wakes_its_waiters_and_derefs_to_the_catalog() {
        let cell = std::sync::Arc::new(CatalogCell::building());
        assert!(cell.get().is_none());
        let filler = cell.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            filler.fill(Ok(Catalog::generate(1, 50)));
        });
        let tracks = cell.ready().await.map(|c| c.tracks.len()).expect("built");
        assert_eq!(tracks, cell.tracks.len());
        assert!(tracks >= 50);
        cell.fill(Err("too late".into()));
        assert!(matches!(cell.get(), Some(Ok(_))), "only the first fill counts");
    }

    #[tokio::test]
    async fn a_cell_whose_build_failed_says_why() {
        let cell = CatalogCell::building();
        cell.fill(Err("catalog.yaml: album B0000000001 names an unknown artist".into()));
        assert_eq!(cell.ready().await.err(), Some("catalog.yaml: album B0000000001 names an unknown artist"));
    }
}
