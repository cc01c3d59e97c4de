package v1alpha1

// SetObservedGeneration records the generation a status describes.
func (c *KalamCluster) SetObservedGeneration(g int64) { c.Status.ObservedGeneration = g }

// SetObservedGeneration records the generation a status describes.
func (n *KalamNamespace) SetObservedGeneration(g int64) { n.Status.ObservedGeneration = g }

// SetObservedGeneration records the generation a status describes.
func (t *KalamTable) SetObservedGeneration(g int64) { t.Status.ObservedGeneration = g }

// SetObservedGeneration records the generation a status describes.
func (b *KalamBackup) SetObservedGeneration(g int64) { b.Status.ObservedGeneration = g }

// SetObservedGeneration records the generation a status describes.
func (s *KalamScheduledBackup) SetObservedGeneration(g int64) { s.Status.ObservedGeneration = g }
