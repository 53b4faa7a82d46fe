package share

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/kmsshare/kmsshare/internal/alicloud"
)

// OrgAccount is one account a manifest selects, with where it sits in the
// Resource Directory and what it gets.
type OrgAccount struct {
	Account string `json:"account"`
	Name    string `json:"name,omitempty"`
	// FolderID and Folder (the folder's path of names, "Root/apps/prod")
	// say where the account is; Path is its ResourceDirectoryPath. All are
	// empty for an account outside the directory (selected explicitly).
	FolderID string `json:"folderId,omitempty"`
	Folder   string `json:"folder,omitempty"`
	Path     string `json:"path,omitempty"`
	// Grants are the indexes of the grants that select it.
	Grants []int `json:"grants"`
	// Keys are the keys it gets.
	Keys []string `json:"keys"`
}

// directory reads the Resource Directory for a manifest: folders by ID and
// by name path, loaded as needed, and the members.
type directory struct {
	api  *alicloud.Directory
	info alicloud.DirectoryInfo

	mu       sync.Mutex
	children map[string][]alicloud.Folder // by parent folder ID
	names    map[string]string            // folder ID → path of names from the root ("Root/apps")
}

// needsDirectory reports whether any selector reads the directory.
func (m *Manifest) needsDirectory() bool {
	for _, g := range m.Grants {
		s := g.Recipients
		if s.Directory || len(s.Folders) > 0 || (s.Exclude != nil && len(s.Exclude.Folders) > 0) {
			return true
		}
	}
	return false
}

func (c *Client) openDirectory(ctx context.Context) (*directory, error) {
	api, err := c.factory.Directory()
	if err != nil {
		return nil, fmt.Errorf("share: %w", err)
	}
	return c.openDirectoryWith(ctx, api)
}

func (c *Client) openDirectoryWith(ctx context.Context, api *alicloud.Directory) (*directory, error) {
	info, err := api.GetResourceDirectory(ctx)
	if err != nil {
		return nil, fmt.Errorf("share: read the resource directory (GetResourceDirectory): %w", err)
	}
	d := &directory{api: api, info: info, children: map[string][]alicloud.Folder{},
		names: map[string]string{info.RootFolderID: "Root"}}
	return d, nil
}

// subfolders lists (once) the folders directly below parent.
func (d *directory) subfolders(ctx context.Context, parent string) ([]alicloud.Folder, error) {
	d.mu.Lock()
	fs, ok := d.children[parent]
	d.mu.Unlock()
	if ok {
		return fs, nil
	}
	fs, err := d.api.ListFoldersForParent(ctx, parent)
	if err != nil {
		return nil, fmt.Errorf("share: list the folders below %s (ListFoldersForParent): %w", parent, err)
	}
	d.mu.Lock()
	d.children[parent] = fs
	for _, f := range fs {
		d.names[f.ID] = d.names[parent] + "/" + f.Name
	}
	d.mu.Unlock()
	return fs, nil
}

// loadTree lists every folder, level by level, the folders of a level at
// once.
func (d *directory) loadTree(ctx context.Context, limit int) error {
	level := []string{d.info.RootFolderID}
	for len(level) > 0 {
		var mu sync.Mutex
		var next []string
		var firstErr error
		parallel(ctx, limit, len(level), func(i int) {
			fs, err := d.subfolders(ctx, level[i])
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			for _, f := range fs {
				next = append(next, f.ID)
			}
		})
		if firstErr != nil {
			return firstErr
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		level = next
	}
	return nil
}

// folderName is a folder's path of names, or "" if it was not loaded.
func (d *directory) folderName(id string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.names[id]
}

// errUnknownFolder is a folder reference that names no folder.
var errUnknownFolder = errors.New("no such folder")

// resolve returns the ID of the folder ref names. A name path is walked
// from the root, one listing per level; an ID is checked against the
// folders loaded, if known is set (the whole tree was loaded).
func (d *directory) resolve(ctx context.Context, ref FolderRef, known bool) (string, error) {
	if ref.byID() {
		if ref.Folder == d.info.RootFolderID || !known || d.folderName(ref.Folder) != "" {
			return ref.Folder, nil
		}
		return "", fmt.Errorf("%w: folder %s is not in resource directory %s", errUnknownFolder, ref.Folder, d.info.ID)
	}
	id := d.info.RootFolderID
	for _, name := range strings.Split(strings.Trim(ref.Folder, "/"), "/") {
		fs, err := d.subfolders(ctx, id)
		if err != nil {
			return "", err
		}
		var found []string
		for _, f := range fs {
			if f.Name == name {
				found = append(found, f.ID)
			}
		}
		switch len(found) {
		case 0:
			var have []string
			for _, f := range fs {
				have = append(have, f.Name)
			}
			return "", fmt.Errorf("%w: %s has no folder %q (it has: %s)", errUnknownFolder, d.folderNameOr(id), name, strings.Join(have, ", "))
		case 1:
			id = found[0]
		default:
			return "", fmt.Errorf("%w: %s has %d folders named %q; name the folder by ID (%s)", errUnknownFolder,
				d.folderNameOr(id), len(found), name, strings.Join(found, ", "))
		}
	}
	return id, nil
}

func (d *directory) folderNameOr(id string) string {
	if n := d.folderName(id); n != "" {
		return n
	}
	return id
}

// inFolder reports whether a member with ResourceDirectoryPath path and
// folder folderID is selected by folder id (and its sub-folders).
func inFolder(m alicloud.Member, id string, subfolders bool) bool {
	if m.FolderID == id {
		return true
	}
	return subfolders && strings.Contains("/"+m.Path+"/", "/"+id+"/")
}
