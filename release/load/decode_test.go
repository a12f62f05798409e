package load

import (
	"math"
	"reflect"
	"testing"
)

// TestWholeNumber: YAML gives ints, TOML int64s, JSON float64s; none may
// be truncated or wrap around on the way into an int32 key.
func TestWholeNumber(t *testing.T) {
	int32Type := reflect.TypeOf(int32(0))
	tests := []struct {
		name    string
		data    any
		wantErr string
	}{
		{name: "int", data: 3},
		{name: "int64 at the limit", data: int64(math.MaxInt32)},
		{name: "json whole float", data: float64(8000)},
		{name: "string is left to mapstructure", data: "12"},
		{name: "fraction", data: 2.5, wantErr: "2.5 is not a whole number"},
		{name: "int64 too large", data: int64(4294975296), wantErr: "4294975296 is out of range"},
		{name: "int64 too small", data: int64(math.MinInt32 - 1), wantErr: "-2147483649 is out of range"},
		{name: "uint64 too large", data: uint64(math.MaxUint64), wantErr: "18446744073709551615 is out of range"},
		{name: "float too large", data: 1e19, wantErr: "1e+19 is out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wholeNumber(reflect.TypeOf(tt.data), int32Type, tt.data)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("wholeNumber(%v) error: %v", tt.data, err)
			case tt.wantErr == "" && got != tt.data:
				t.Errorf("wholeNumber(%v) = %v, want the value unchanged", tt.data, got)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("wholeNumber(%v) error = %v, want %q", tt.data, err, tt.wantErr)
			}
		})
	}
	if _, err := wholeNumber(reflect.TypeOf(2.5), reflect.TypeOf(""), 2.5); err != nil {
		t.Errorf("wholeNumber into a string field: %v, want no opinion", err)
	}
}
