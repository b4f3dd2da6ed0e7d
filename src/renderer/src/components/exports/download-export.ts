import { useApi } from '@renderer/api'

/**
 * Hands an export's files to the browser as one zip download (web mode: the server's folders are out of
 * the browser's reach). Resolves when the download was started; throws an ApiError when main refuses.
 */
export async function downloadExport(exportId: string): Promise<void> {
  const zip = await useApi().call('exports.archive', { exportId })
  const bytes = Uint8Array.from(atob(zip.base64), (c) => c.charCodeAt(0))
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/zip' }))
  const a = document.createElement('a')
  a.href = url
  a.download = zip.fileName
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 60_000)
}
