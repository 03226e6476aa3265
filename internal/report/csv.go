package report

import (
	"encoding/csv"
	"io"
	"strings"
	"unicode"
)

// CSVWriter writes CSV whose cells a spreadsheet shows as text: a registry- or
// scanner-supplied value starting with = + - @ (a formula) is prefixed with ', and control
// characters become spaces. Every CSV quaykeeper writes goes through it.
type CSVWriter struct {
	w *csv.Writer
}

// NewCSVWriter returns a CSVWriter on w.
func NewCSVWriter(w io.Writer) *CSVWriter { return &CSVWriter{w: csv.NewWriter(w)} }

// Write writes one record; errors surface in Flush.
func (c *CSVWriter) Write(record []string) {
	safe := make([]string, len(record))
	for i, v := range record {
		safe[i] = CSVCell(v)
	}
	_ = c.w.Write(safe)
}

// Flush writes what is buffered and returns the first error of any write.
func (c *CSVWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// CSVCell is one cell as CSVWriter writes it.
func CSVCell(v string) string {
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, v)
	// Spreadsheets skip leading spaces before they look for a formula.
	if t := strings.TrimLeft(v, " "); t != "" && strings.ContainsRune("=+-@", rune(t[0])) {
		return "'" + v
	}
	return v
}
