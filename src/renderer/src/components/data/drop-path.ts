/**
 * The local path of the first file or folder in a drop. The desktop app's preload gives it
 * (webUtils.getPathForFile); a browser never tells a page where a dropped file lives, so web mode answers
 * with a hint to type the path instead.
 */
export function pathFromDrop(event: DragEvent): { path: string | null; hint: string } {
  const file = event.dataTransfer?.files?.[0]
  if (!file) return { path: null, hint: 'Nothing was dropped. Drop a folder or a file.' }
  const path = window.nasFiles?.pathForFile(file) ?? ''
  if (path) return { path, hint: '' }
  return {
    path: null,
    hint: `A browser cannot tell NAS Studio where "${file.name}" is on this computer. Type or paste its full path into the field below.`,
  }
}
