// Package defaults fills unset option fields from a defaults value. Options
// structs across the data plane treat a zero (or negative) number and a nil
// pointer as "use the default"; these helpers keep that rule in one place.
package defaults

// Number is any numeric option type, including time.Duration.
type Number interface {
	~int | ~int32 | ~int64 | ~uint | ~uint32 | ~uint64 | ~float64
}

// Positive sets *v to d when *v is zero or negative.
func Positive[T Number](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// Ptr sets *v to d when *v is nil.
func Ptr[T any](v **T, d *T) {
	if *v == nil {
		*v = d
	}
}
