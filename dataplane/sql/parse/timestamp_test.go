package parse

import (
	"errors"
	"testing"
)

func TestParseTimestampMicros(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"1970-01-01", 0},
		{"1970-01-01 00:00:00", 0},
		{"1970-01-01 00:00:01", 1_000_000},
		{"1970-01-01T00:00:01Z", 1_000_000},
		{"1970-01-01t00:00:01z", 1_000_000},
		{"1970-01-01 00:01", 60_000_000},
		{"2025-01-01 00:00:00", 1735689600_000000},
		{"2025-01-01T00:00:00Z", 1735689600_000000},
		{"2025-01-01T01:00:00+01:00", 1735689600_000000},
		{"2025-01-01T01:00:00+0100", 1735689600_000000},
		{"2025-01-01T01:00:00+01", 1735689600_000000},
		{"2024-12-31T23:00:00-01:00", 1735689600_000000},
		{"2025-01-01 00:00:00.123456", 1735689600_123456},
		{"2025-01-01 00:00:00.1", 1735689600_100000},
		{"2025-01-01 00:00:00.0000005", 1735689600_000001},
		{"2025-01-01 00:00:00.999999999", 1735689601_000000},
		{"1969-12-31 23:59:59.5", -500_000},
		{"2024-02-29", 1709164800_000000},
		{"0001-01-01", -62135596800_000000},
		{"9999-12-31 23:59:59.999999", 253402300799_999999},
	} {
		got, err := ParseTimestampMicros(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseTimestampMicros(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParseTimestampMicrosErrors(t *testing.T) {
	for _, in := range []string{
		"", "2025", "2025-1-1", "2025-01-01 ", "2025-01-01X00:00", "2025-13-01", "2025-00-10",
		"2025-02-30", "2023-02-29", "2025-01-01 24:00:00", "2025-01-01 10:60", "2025-01-01 10:00:60",
		"2025-01-01 10:00:00.", "2025-01-01 10:00:00.1234567890", "2025-01-01 10:00:00+25:00",
		"2025-01-01 10:00:00 UTC", "2025-01-01 10", "0000-01-01", "2025-01-01T10:00:00+01:0",
	} {
		_, err := ParseTimestampMicros(in)
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != CodeInvalidInput {
			t.Errorf("ParseTimestampMicros(%q) error = %v, want INVALID_INPUT", in, err)
		}
	}
}

func TestParseDateDays(t *testing.T) {
	for in, want := range map[string]int64{
		"1970-01-01": 0, "1970-01-02": 1, "1969-12-31": -1, "2025-01-01": 20089, "2000-02-29": 11016,
	} {
		got, err := ParseDateDays(in)
		if err != nil || got != want {
			t.Errorf("ParseDateDays(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1970-01-01 00:00", "2001-02-29", "19700101"} {
		if _, err := ParseDateDays(in); err == nil {
			t.Errorf("ParseDateDays(%q) succeeded, want error", in)
		}
	}
}
