"""HTTP routes of the registry (thin: parse, call the service, shape the response)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Query, Response, UploadFile, status

from services.registry import bootstrap, institutions, pages, regions
from services.registry.callbacks import AccessTokenStore
from services.registry.coverage import coverage_report
from services.registry.filters import InstitutionFilter, PageFilter
from services.registry.models import (
    CallbackSettings,
    CoverageReport,
    ImportReport,
    InstitutionCreate,
    InstitutionRead,
    InstitutionUpdate,
    Kind,
    Level,
    Listing,
    PageCategory,
    PageCreate,
    PageRead,
    PageUpdate,
    Platform,
    RegionRead,
    RegionSettings,
    Sphere,
    Status,
    VkTokenUpdate,
)
from services.registry.repository import RegistryRepository
from services.registry.spreadsheet import MAX_IMPORT_BYTES, XLSX_MEDIA_TYPE
from shared.vk_api import VkApi
from shared.web import CurrentPrincipal, ErrorBody

Repository = Annotated[RegistryRepository, Depends(bootstrap.repository)]
AccessTokens = Annotated[AccessTokenStore, Depends(bootstrap.access_tokens)]
VkClient = Annotated[VkApi, Depends(bootstrap.vk_api)]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page")]
Region = Annotated[str | None, Query(description="2-digit region code (default: your region, all for federal admins)")]
NAME_SEARCH = (
    "Words of the name in any order, case-insensitive, ё = е: each must begin a word of the name (a number must be "
    "one of its numbers), so `школа 5` finds «МБОУ «Средняя общеобразовательная школа № 5»»"
)

router = APIRouter(prefix="/registry", tags=["registry"])


@router.get("/regions", response_model=list[RegionRead])
def list_regions(principal: CurrentPrincipal) -> list[RegionRead]:
    """The 89 federal subjects."""
    del principal
    return regions.list_regions()


@router.get("/regions/{region_code}/settings", response_model=RegionSettings)
def get_region_settings(principal: CurrentPrincipal, repository: Repository, region_code: str) -> RegionSettings:
    """A region's posting norms per page category."""
    return regions.get_region_settings(repository=repository, principal=principal, region_code=region_code)


@router.put("/regions/{region_code}/settings", response_model=RegionSettings)
def put_region_settings(
    principal: CurrentPrincipal, repository: Repository, region_code: str, data: RegionSettings
) -> RegionSettings:
    """Set a region's posting norms."""
    return regions.put_region_settings(repository=repository, principal=principal, region_code=region_code, data=data)


@router.post("/institutions", response_model=InstitutionRead, status_code=status.HTTP_201_CREATED)
def create_institution(principal: CurrentPrincipal, repository: Repository, data: InstitutionCreate) -> InstitutionRead:
    """Register an institution (409 if its OGRN is registered)."""
    return institutions.create_institution(repository=repository, principal=principal, data=data)


@router.get("/institutions", response_model=Listing[InstitutionRead])
def list_institutions(
    principal: CurrentPrincipal,
    repository: Repository,
    region: Region = None,
    kind: Kind | None = None,
    sphere: Sphere | None = None,
    level: Level | None = None,
    status: Status | None = None,
    has_pages: bool | None = None,
    name: Annotated[str | None, Query(max_length=500, description=NAME_SEARCH)] = None,
    parent_id: str | None = None,
    municipality: Annotated[str | None, Query(max_length=500, description="Case-insensitive, ё = е")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Listing[InstitutionRead]:
    """Institutions in your scope, by name; a page may hold fewer than `limit` items while `next_cursor` is set."""
    where = InstitutionFilter(
        kind=kind,
        sphere=sphere,
        level=level,
        status=status,
        has_pages=has_pages,
        name=name,
        parent_id=parent_id,
        municipality=municipality,
    )
    return institutions.list_institutions(
        repository=repository, principal=principal, where=where, region=region, limit=limit, cursor=cursor
    )


@router.get("/institutions/{institution_id}", response_model=InstitutionRead)
def get_institution(principal: CurrentPrincipal, repository: Repository, institution_id: str) -> InstitutionRead:
    """One institution."""
    return institutions.get_institution(repository=repository, principal=principal, institution_id=institution_id)


@router.patch("/institutions/{institution_id}", response_model=InstitutionRead)
def update_institution(
    principal: CurrentPrincipal, repository: Repository, institution_id: str, data: InstitutionUpdate
) -> InstitutionRead:
    """Change an institution; `status: archived` archives it and its pages (there is no delete)."""
    return institutions.update_institution(
        repository=repository, principal=principal, institution_id=institution_id, data=data
    )


@router.post("/institutions/{institution_id}/pages", response_model=PageRead, status_code=status.HTTP_201_CREATED)
def create_page(principal: CurrentPrincipal, repository: Repository, institution_id: str, data: PageCreate) -> PageRead:
    """Register a page of an institution (409 if its link or VK community is registered)."""
    return pages.create_page(repository=repository, principal=principal, institution_id=institution_id, data=data)


@router.get("/pages", response_model=Listing[PageRead])
def list_pages(
    principal: CurrentPrincipal,
    repository: Repository,
    region: Region = None,
    institution_id: str | None = None,
    platform: Platform | None = None,
    category: PageCategory | None = None,
    status: Status | None = None,
    compliance_below: Annotated[int | None, Query(ge=0, le=101, description="compliance_pct < N")] = None,
    gov_mark: bool | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Listing[PageRead]:
    """Pages in your scope; a page may hold fewer than `limit` items while `next_cursor` is set."""
    where = PageFilter(
        platform=platform, category=category, status=status, compliance_below=compliance_below, gov_mark=gov_mark
    )
    return pages.list_pages(
        repository=repository,
        principal=principal,
        where=where,
        region=region,
        institution_id=institution_id,
        limit=limit,
        cursor=cursor,
    )


@router.get("/pages/{page_id}", response_model=PageRead)
def get_page(principal: CurrentPrincipal, repository: Repository, page_id: str) -> PageRead:
    """One page (callback settings are never returned, only `callback_configured`)."""
    return pages.get_page(repository=repository, principal=principal, page_id=page_id)


@router.patch("/pages/{page_id}", response_model=PageRead)
def update_page(principal: CurrentPrincipal, repository: Repository, page_id: str, data: PageUpdate) -> PageRead:
    """Change a page; checklist items merge, each stamped with `checked_at`."""
    return pages.update_page(repository=repository, principal=principal, page_id=page_id, data=data)


@router.put("/pages/{page_id}/callback", response_model=PageRead)
def set_callback(principal: CurrentPrincipal, repository: Repository, page_id: str, data: CallbackSettings) -> PageRead:
    """Rotate a VK page's confirmation code and secret (write-only; the token: ``PUT .../vk-token``)."""
    return pages.set_callback(repository=repository, principal=principal, page_id=page_id, data=data)


@router.put("/pages/{page_id}/vk-token", response_model=PageRead)
def set_vk_token(
    principal: CurrentPrincipal,
    repository: Repository,
    tokens: AccessTokens,
    vk: VkClient,
    page_id: str,
    data: VkTokenUpdate,
) -> PageRead:
    """Set a VK page's community access token (write-only; the page shows what VK says it may do)."""
    return pages.set_vk_token(
        repository=repository, tokens=tokens, vk=vk, principal=principal, page_id=page_id, data=data
    )


@router.post(
    "/import",
    response_model=ImportReport,
    responses={413: {"model": ErrorBody, "description": "The file, or a sheet in it, is past the import limits"}},
)
def import_registry(
    principal: CurrentPrincipal,
    repository: Repository,
    region: Annotated[str, Query(description="2-digit region code the file belongs to")],
    file: Annotated[UploadFile, File(description="XLSX or CSV; see the column list in the service docs")],
    dry_run: bool = False,
) -> ImportReport:
    """Upsert institutions and pages from a spreadsheet (by OGRN and page link); report per row and change."""
    content = file.file.read(MAX_IMPORT_BYTES + 1)  # a byte past the limit is enough for the service to refuse it
    from services.registry import importing  # spreadsheet code loads on first use, not at cold start

    return importing.import_registry(
        repository=repository,
        principal=principal,
        region=region,
        content=content,
        filename=file.filename,
        dry_run=dry_run,
    )


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}}}},
)
def export_registry(
    principal: CurrentPrincipal,
    repository: Repository,
    region: Annotated[str, Query(description="2-digit region code")],
    format: Literal["xlsx", "csv"] = "xlsx",
) -> Response:
    """The region's registry in the import columns (export, then import is a no-op)."""
    from services.registry import exporting

    content, media_type, filename = exporting.export_registry(
        repository=repository, principal=principal, region=region, fmt=format
    )
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get("/coverage", response_model=CoverageReport)
def coverage(principal: CurrentPrincipal, repository: Repository, region: Region = None) -> CoverageReport:
    """Coverage per region and sphere: institutions with pages, pages by platform, «Госорганизация», compliance."""
    return coverage_report(repository=repository, principal=principal, region=region)
