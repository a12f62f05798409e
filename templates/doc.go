// Package templates holds relgen's built-in templates and the one helper
// that renders every template, built-in or user-supplied, the same way:
// text/template with sprig's hermetic functions and missingkey=error, so a
// typo in a template is an error rather than an empty string.
package templates
