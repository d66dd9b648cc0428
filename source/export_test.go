package source

// SetCatalogPage sets how many repositories one catalog request of r asks
// for, so that a test can make a registry page.
func SetCatalogPage(r *Registry, n int) { r.page = n }
