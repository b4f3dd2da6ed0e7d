import { onBeforeUnmount, ref, type Ref } from 'vue'

/**
 * Whether the window is at most `maxWidth` CSS pixels wide, kept current while the calling component lives.
 * Tables use it to fold secondary columns into a sub-line instead of hiding them behind a sideways scroll.
 */
export function useNarrowWindow(maxWidth: number): Ref<boolean> {
  const narrow = ref(false)
  if (typeof matchMedia !== 'function') return narrow
  const query = matchMedia(`(max-width: ${maxWidth}px)`)
  narrow.value = query.matches
  const update = (e: MediaQueryListEvent): void => {
    narrow.value = e.matches
  }
  query.addEventListener('change', update)
  onBeforeUnmount(() => query.removeEventListener('change', update))
  return narrow
}
