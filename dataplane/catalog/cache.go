package catalog

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-k8s/dataplane/storage/keys"
)

// Cache is the in-memory mirror of the catalog records. Readers take a
// consistent view under a read lock; only the apply path calls the Set*/
// Delete* methods, after the records are durable.
type Cache struct {
	// version changes on every mutation, so derived caches (rewritten
	// statements) know when to drop entries.
	version    atomic.Uint64
	mu         sync.RWMutex
	namespaces map[string]*Namespace
	tables     map[string]*Table // by "ns.table"
	byID       map[uint32]*Table
	users      map[string]*User
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{
		namespaces: map[string]*Namespace{},
		tables:     map[string]*Table{},
		byID:       map[uint32]*Table{},
		users:      map[string]*User{},
	}
}

// Load fills the cache from the meta group.
func Load(db *pebble.DB) (*Cache, error) {
	c := NewCache()
	load := func(rec byte, fn func(v []byte) error) error {
		p := keys.CatalogPrefix(rec)
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: keys.PrefixEnd(p)})
		if err != nil {
			return err
		}
		defer it.Close()
		for it.First(); it.Valid(); it.Next() {
			if err := fn(it.Value()); err != nil {
				return fmt.Errorf("while loading catalog record %q: %w", it.Key(), err)
			}
		}
		return it.Error()
	}
	if err := load(RecNamespace, func(v []byte) error {
		var n Namespace
		if err := json.Unmarshal(v, &n); err != nil {
			return err
		}
		c.namespaces[n.Name] = &n
		return nil
	}); err != nil {
		return nil, err
	}
	if err := load(RecTable, func(v []byte) error {
		var t Table
		if err := json.Unmarshal(v, &t); err != nil {
			return err
		}
		c.tables[t.QualifiedName()] = &t
		c.byID[t.ID] = &t
		return nil
	}); err != nil {
		return nil, err
	}
	if err := load(RecUser, func(v []byte) error {
		var u User
		if err := json.Unmarshal(v, &u); err != nil {
			return err
		}
		c.users[u.UserID] = &u
		return nil
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// Namespace returns a namespace by name.
func (c *Cache) Namespace(name string) (*Namespace, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n, ok := c.namespaces[name]
	return n, ok
}

// Namespaces returns all namespaces sorted by name.
func (c *Cache) Namespaces() []*Namespace {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*Namespace, 0, len(c.namespaces))
	for _, n := range c.namespaces {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Table returns the latest definition of ns.name. Returned tables are
// immutable snapshots: callers must not modify them.
func (c *Cache) Table(ns, name string) (*Table, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.tables[ns+"."+name]
	return t, ok
}

// TableByID returns a live table by id.
func (c *Cache) TableByID(id uint32) (*Table, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.byID[id]
	return t, ok
}

// Tables returns the tables of ns ("" = all), sorted by qualified name.
func (c *Cache) Tables(ns string) []*Table {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*Table, 0, len(c.tables))
	for _, t := range c.tables {
		if ns == "" || t.Namespace == ns {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].QualifiedName() < out[j].QualifiedName() })
	return out
}

// User returns a user by id (including soft-deleted ones).
func (c *Cache) User(id string) (*User, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	u, ok := c.users[id]
	return u, ok
}

// Users returns all users sorted by id.
func (c *Cache) Users() []*User {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*User, 0, len(c.users))
	for _, u := range c.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UserID < out[j].UserID })
	return out
}

// SetNamespace installs or replaces a namespace.
func (c *Cache) SetNamespace(n *Namespace) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version.Add(1)
	c.namespaces[n.Name] = n
}

// DeleteNamespace removes a namespace.
func (c *Cache) DeleteNamespace(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version.Add(1)
	delete(c.namespaces, name)
}

// SetTable installs a table's latest definition.
func (c *Cache) SetTable(t *Table) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version.Add(1)
	c.tables[t.QualifiedName()] = t
	c.byID[t.ID] = t
}

// DeleteTable removes a table.
func (c *Cache) DeleteTable(t *Table) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version.Add(1)
	delete(c.tables, t.QualifiedName())
	delete(c.byID, t.ID)
}

// SetUser installs or replaces a user.
func (c *Cache) SetUser(u *User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version.Add(1)
	c.users[u.UserID] = u
}

// Version returns a counter that changes whenever the catalog changes.
func (c *Cache) Version() uint64 { return c.version.Load() }

// DeleteUserIfDropped removes a purged user from the mirror unless the
// entry is live again (a CREATE USER of the name applied in between).
func (c *Cache) DeleteUserIfDropped(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if u, ok := c.users[id]; ok && u.DeletedAt != 0 {
		delete(c.users, id)
		c.version.Add(1)
	}
}

// ReloadFrom replaces the cache's contents with the catalog records in db,
// after the meta group's key range was replaced underneath it (a
// replication snapshot was installed).
func (c *Cache) ReloadFrom(db *pebble.DB) error {
	fresh, err := Load(db)
	if err != nil {
		return err
	}
	fresh.mu.RLock()
	ns, tables, byID, users := fresh.namespaces, fresh.tables, fresh.byID, fresh.users
	fresh.mu.RUnlock()
	c.mu.Lock()
	c.namespaces, c.tables, c.byID, c.users = ns, tables, byID, users
	c.mu.Unlock()
	c.version.Add(1)
	return nil
}
