package cbad

import (
	"container/list"
	"sync"
)

// Cache is an LRU of detectors by stream key. It is safe for concurrent use.
type Cache struct {
	mu        sync.Mutex
	capacity  int
	onEvict   func(streamKey string)
	order     *list.List // front is the most recently used; values are *cacheEntry
	byKey     map[string]*list.Element
	evictions int64
}

type cacheEntry struct {
	key string
	det *Detector
}

// NewCache returns a cache holding at most capacity detectors (values below 1
// mean 1). onEvict, if not nil, is called with the key of every evicted
// stream, after the cache lock is released.
func NewCache(capacity int, onEvict func(streamKey string)) *Cache {
	if capacity < 1 {
		capacity = 1
	}
	return &Cache{
		capacity: capacity,
		onEvict:  onEvict,
		order:    list.New(),
		byKey:    make(map[string]*list.Element),
	}
}

// Get returns the stream's detector and marks it most recently used. On a
// miss it creates the detector with newFn (created=true), evicting the least
// recently used stream when the cache is full. newFn runs under the cache
// lock, so it must be quick and must not call the cache; when it fails, the
// error is returned and nothing is cached.
func (c *Cache) Get(streamKey string, newFn func() (*Detector, error)) (d *Detector, created bool, err error) {
	c.mu.Lock()
	if el, ok := c.byKey[streamKey]; ok {
		c.order.MoveToFront(el)
		d = el.Value.(*cacheEntry).det
		c.mu.Unlock()
		return d, false, nil
	}
	d, err = newFn()
	if err != nil {
		c.mu.Unlock()
		return nil, false, err
	}
	var evicted []string
	for c.order.Len() >= c.capacity {
		el := c.order.Back()
		e := el.Value.(*cacheEntry)
		c.order.Remove(el)
		delete(c.byKey, e.key)
		c.evictions++
		evicted = append(evicted, e.key)
	}
	c.byKey[streamKey] = c.order.PushFront(&cacheEntry{key: streamKey, det: d})
	c.mu.Unlock()
	if c.onEvict != nil {
		for _, k := range evicted {
			c.onEvict(k)
		}
	}
	return d, true, nil
}

// Len returns the number of cached detectors.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// Evictions returns how many detectors were evicted since the cache was made.
func (c *Cache) Evictions() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.evictions
}
